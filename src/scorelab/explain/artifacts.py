"""The explanation stage of a run: each fold model explains the citizens it held out.

The audit sample is explained by the very fold model that scored it out of fold, so a
citizen's score and explanation always agree. The same function explains
any other citizen on demand (``scorelab explain RUN --citizen ID``): the fold, the
background rows and the seed are all derived from the run, so the result is the one the
study would have written.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from scorelab.config import Explain
from scorelab.core.numeric import logit
from scorelab.data.synthetic import Population
from scorelab.engine import Fold, FoldResults, PreparedModel, Progress
from scorelab.explain.explainers import (
    SCALE,
    Explanation,
    background_sample,
    explain,
    is_fast,
)
from scorelab.explain.importance import (
    agreement,
    explanations_table,
    global_importance,
    true_drivers,
)

__all__ = ["ADDITIVITY_TOLERANCE", "explain_fold_rows", "explain_folds",
           "explanation_artifacts", "to_log_odds"]

ADDITIVITY_TOLERANCE = 1e-6  # log-odds; base + contributions must reproduce the output
OUTPUT_TOLERANCE = 1e-4  # log-odds; the explained output must be the out-of-fold score


def to_log_odds(p: np.ndarray) -> np.ndarray:
    """The log-odds of default of probabilities (clipped away from 0 and 1)."""
    return logit(p)


def explain_fold_rows(model: BaseEstimator, X: pd.DataFrame, train: np.ndarray,
                      rows: np.ndarray, cfg: Explain, seed: int, fold: int) -> Explanation:
    """Explain rows ``rows`` of ``X`` with the fold model trained on rows ``train``.

    The background sample is drawn from the fold's training rows with the seed
    ``seed + fold``: the study and an on-demand explanation draw the same rows.
    """
    background = background_sample(X.iloc[train], cfg.background_size, seed=seed + fold)
    with threadpool_limits(1):
        return explain(model, X.iloc[rows], background, max_evals=cfg.max_evals,
                       seed=seed + fold)


def _explain_task(model: BaseEstimator, X: pd.DataFrame, fold: Fold, rows: np.ndarray,
                  cfg: Explain, seed: int) -> tuple[Explanation, float]:
    start = time.perf_counter()
    explanation = explain_fold_rows(model, X, fold.train, rows, cfg, seed, fold.fold)
    return explanation, time.perf_counter() - start


def explain_folds(models: list[PreparedModel], fits: FoldResults, frame: pd.DataFrame,
                  folds: list[Fold], audit: np.ndarray, audit_agnostic: np.ndarray,
                  cfg: Explain, seed: int, n_jobs: int = 1, progress: Progress | None = None
                  ) -> tuple[dict[str, list[tuple[np.ndarray, Explanation]]], dict[str, float]]:
    """Each first-repeat fold model explains the audited citizens it held out.

    ``audit`` and ``audit_agnostic`` are sorted citizen positions; the model-agnostic
    explainer (costly) gets the nested ``audit_agnostic`` sample, exact ones ``audit``.
    """
    in_audit = np.zeros(len(frame), dtype=bool)
    in_audit[audit] = True
    in_agnostic = np.zeros(len(frame), dtype=bool)
    in_agnostic[audit_agnostic] = True
    tasks = []
    for m in models:
        for f in folds:
            if f.repeat != 0:
                continue
            model = fits.fold_models[m.name][(0, f.fold)]
            mask = in_audit if is_fast(model) else in_agnostic
            tasks.append((m, f, model, f.test[mask[f.test]]))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_explain_task)(model, frame[m.columns], f, rows, cfg, seed)
        for m, f, model, rows in tasks)
    explained: dict[str, list[tuple[np.ndarray, Explanation]]] = {}
    seconds: dict[str, float] = {}
    for done, ((m, _, _, rows), (explanation, took)) in enumerate(
            zip(tasks, results, strict=True), start=1):
        explained.setdefault(m.name, []).append((rows, explanation))
        seconds[m.name] = seconds.get(m.name, 0.0) + took
        if progress is not None:
            progress(done, len(tasks))
    return explained, seconds


def explanation_artifacts(models: list[PreparedModel],
                          explained: dict[str, list[tuple[np.ndarray, Explanation]]],
                          oof: dict[str, np.ndarray], population: Population,
                          seconds: dict[str, float]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The explanations long table and importance.json (with the additivity check)."""
    frame = population.frame
    ids = frame["citizen_id"].to_numpy()
    tables, additivity = [], {}
    for m in models:
        errors, gaps = [0.0], [0.0]
        for rows, explanation in explained.get(m.name, []):
            tables.append(explanations_table(ids[rows], m.name, m.spec.family, explanation,
                                             frame[m.columns].iloc[rows], population.schema))
            errors.append(explanation.additivity_error())
            if rows.size:
                gaps.append(float(np.max(np.abs(
                    to_log_odds(oof[m.name][0, rows]) - explanation.output))))
        error, gap = max(errors), max(gaps)
        additivity[m.name] = {
            "max_additivity_error": error, "max_output_gap": gap,
            "tolerance": ADDITIVITY_TOLERANCE,
            "passed": bool(error <= ADDITIVITY_TOLERANCE and gap <= OUTPUT_TOLERANCE),
        }
    table = pd.concat(tables, ignore_index=True)
    for col in ("model", "family", "feature", "source", "method"):
        table[col] = table[col].astype(str).astype("category")
    importance = global_importance(table)
    truth = true_drivers(population) if "true_pd" in frame else None
    importance.update({
        "scale": SCALE,
        "agreement": agreement(importance, truth),
        "true_drivers": truth,
        "additivity": additivity,
        "explain_seconds": seconds,
        "n_citizens": int(table["citizen_id"].nunique()),
    })
    return table, importance
