"""The study: the config unpacked once into a plan, the checks before any fit, and the
run (a short orchestrator of the stages that writes the run directory).

Imports every layer below it (stages, ``truth``, ``runs``, ``report``); nothing imports
it but ``lda`` and the surfaces.
"""

from scorelab.study.runner import StudyResult, TimeLimitError, run, run_study

__all__ = ["StudyResult", "TimeLimitError", "run", "run_study"]
