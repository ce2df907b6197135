"""``scorelab lda``: the search, then the study with its chosen alternatives, in one run
directory.

The search runs first, on the study's population and folds. Its chosen alternatives are
then added to the config's models, and the study runs exactly as ``scorelab run`` runs
it (same population, folds, artifacts, guards against signals and time limits): so each
chosen alternative is a model of the run like any other, with its out-of-fold
predictions, metrics and leaderboard row, explanations, fairness audit, final and fold
models and card, and ``score --model``, ``explain --model``, ``compare`` and the Python
API reach it by its name. ``lda/`` is written before the manifest, so a stopped search
or study leaves nothing that looks finished. The reference is fitted twice (by the
search and by the study, on the same folds: the same numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from scorelab.config import ExperimentConfig, ModelSpec
from scorelab.engine import Progress
from scorelab.exceptions import DataError
from scorelab.lda.artifacts import write_lda
from scorelab.lda.search import BatchReport, LdaSearch, check_request, run_search
from scorelab.runs.writer import RunWriter, frame_fingerprint
from scorelab.study.population import population_for
from scorelab.study.runner import StudyResult, run

__all__ = ["lda", "with_alternatives"]


def with_alternatives(config: ExperimentConfig, search: LdaSearch) -> ExperimentConfig:
    """The config with the search's chosen alternatives added to its models (by their
    candidate names, which no configured model has: :func:`check_request`), so the study
    trains and exports them like any configured model."""
    chosen = list(dict.fromkeys(c["chosen"] for c in search.choices if c["chosen"]))
    added: list[ModelSpec] = [search.specs[n] for n in chosen]
    return config.model_copy(update={"models": [*config.models, *added]})


def lda(config: ExperimentConfig, reference: str | None = None, budget: int | None = None,
        runs_dir: Path | None = None, progress: Progress | None = None,
        on_stage: Callable[[str, float], None] | None = None,
        on_batch: BatchReport | None = None, population: pd.DataFrame | None = None
        ) -> tuple[StudyResult, LdaSearch]:
    """Run the search and the study with its alternatives; return both (the run
    directory is published)."""
    spec, budget = check_request(config, reference, budget)  # one line before any work
    people, _ = population_for(config, frame=population)
    found = run_search(config, people, spec.name, budget, progress=progress,
                       on_batch=on_batch)
    searched = frame_fingerprint(people.frame)

    def write(writer: RunWriter, result: StudyResult) -> None:
        if frame_fingerprint(result.population.frame) != searched:
            raise DataError("lda: the study drew another population than the search "
                            f"(compute.backend: {config.compute.backend}); run the search "
                            "with compute.backend: local")
        write_lda(writer, config, found, result.population.schema,
                  run_models=[m.name for m in result.models])

    result = run(with_alternatives(config, found), runs_dir=runs_dir, progress=progress,
                 population=population, on_stage=on_stage, after_study=write)
    return result, found
