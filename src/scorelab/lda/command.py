"""``scorelab lda``: the study, then the search, in one run directory.

The study runs exactly as ``scorelab run`` runs it (same population, folds, artifacts,
guards against signals and time limits); the search then reuses its folds and the
reference's out-of-fold probabilities, and writes ``lda/`` before the manifest, so a
stopped search leaves nothing that looks finished.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig
from scorelab.engine import Progress
from scorelab.lda.artifacts import write_lda
from scorelab.lda.search import BatchReport, LdaSearch, check_request, run_search
from scorelab.runs.writer import RunWriter
from scorelab.study.runner import StudyResult, run

__all__ = ["lda"]


def lda(config: ExperimentConfig, reference: str | None = None, budget: int | None = None,
        runs_dir: Path | None = None, progress: Progress | None = None,
        on_stage: Callable[[str, float], None] | None = None,
        on_batch: BatchReport | None = None, population: pd.DataFrame | None = None
        ) -> tuple[StudyResult, LdaSearch]:
    """Run the study and the search; return both (the run directory is published)."""
    spec, budget = check_request(config, reference, budget)  # one line before any work
    found: list[LdaSearch] = []

    def search(writer: RunWriter, result: StudyResult) -> None:
        same_folds = getattr(config.evaluation, "split", "stratified") != "time"
        oof = result.fits.oof.get(spec.name) if same_folds else None
        found.append(run_search(config, result.population, spec.name, budget,
                                reference_oof=None if oof is None else np.asarray(oof),
                                progress=progress, on_batch=on_batch))
        write_lda(writer, config, found[0], result.population.schema)

    result = run(config, runs_dir=runs_dir, progress=progress, population=population,
                 on_stage=on_stage, after_study=search)
    return result, found[0]
