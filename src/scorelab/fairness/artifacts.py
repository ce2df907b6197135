"""The fairness stage of a study: the audit of its population, its age twins and its
models re-trained on the true outcome.

Counterfactual age twins (synthetic populations only) are scored by the fold model that
held each citizen out, so a twin's score differs from its citizen's only by the
intervention, never by the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from scorelab.config import Decision, Fairness, SyntheticPopulation
from scorelab.core.ages import AgeSpec
from scorelab.core.scale import ScoreScale
from scorelab.data.synthetic import Population, counterfactual_twins
from scorelab.engine import FitSample, Fold, FoldResults, PreparedModel, fit_folds
from scorelab.fairness.audit import FairnessAudit, fairness_audit

__all__ = ["audit_population", "score_twins", "true_outcome_fits", "twin_population"]


def twin_population(population: SyntheticPopulation | Any, seed: int, age_shift: float,
                    frame: pd.DataFrame) -> pd.DataFrame | None:
    """Every citizen re-drawn ``age_shift`` years older, all else equal (None unless the
    population is synthetic: a real table has no causal model to re-draw from)."""
    if not (isinstance(population, SyntheticPopulation) and "age" in frame):
        return None
    return counterfactual_twins(population, seed, {"age": lambda a: a + age_shift}).frame


def score_twins(models: list[PreparedModel], fits: FoldResults, twin_frame: pd.DataFrame,
                folds: list[Fold], n_jobs: int = 1) -> dict[str, np.ndarray]:
    """Each twin's P(default) from the first-repeat fold model that held its citizen out
    (the (model, fold) pairs scored in parallel, one thread each)."""
    tasks = [(m, f) for m in models for f in folds if f.repeat == 0]
    scored = Parallel(n_jobs=n_jobs)(
        delayed(_predict)(fits.fold_models[m.name][(0, f.fold)],
                          twin_frame[m.columns].iloc[f.test]) for m, f in tasks)
    out = {m.name: np.full(len(twin_frame), np.nan) for m in models}
    for (m, f), p in zip(tasks, scored, strict=True):
        out[m.name][f.test] = p
    return out


def _predict(model: Any, X: pd.DataFrame) -> np.ndarray:
    with threadpool_limits(1):
        return model.predict_proba(X)[:, 1]


def true_outcome_fits(population: Population, models: list[PreparedModel],
                      fits: FoldResults, folds: list[Fold], *, n_jobs: int = 1,
                      sample: FitSample | None = None) -> FoldResults | None:
    """Every model re-trained on the true outcome, on the first repeat's folds (so each
    citizen is scored by a model that never saw them, as in the study itself).

    None unless the population carries its true outcome (``fairness.label_bias_refit``
    asks for this). Where the recorded and true outcomes agree on every citizen the
    re-trained models would be the study's own (same data, labels and seeds): those are
    returned.
    """
    frame = population.frame
    if "true_default" not in frame:
        return None
    y_true = frame["true_default"].to_numpy().astype(np.int64)
    if np.array_equal(y_true, frame[population.schema.target].to_numpy().astype(np.int64)):
        return fits
    return fit_folds(models, frame, y_true, [f for f in folds if f.repeat == 0],
                     n_jobs=n_jobs, sample=sample)


def audit_population(population: Population, models: list[PreparedModel],
                     predictions: pd.DataFrame, *, fairness: Fairness, decision: Decision,
                     scale: ScoreScale, age: AgeSpec, seed: int,
                     twin_oof: dict[str, np.ndarray] | None = None,
                     twin_frame: pd.DataFrame | None = None,
                     explanations: pd.DataFrame | None = None,
                     true_label: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
                     | None = None) -> FairnessAudit:
    """The audit of a study's population and models (:func:`fairness_audit`), given the
    twins' and the true-outcome models' P(default) per model as arrays over citizens.

    ``true_label`` is (P(default), twins' P(default)) per model from the models
    re-trained on the true outcome (:func:`true_outcome_fits`), for the label part of the
    age-gap decomposition.
    """
    frame = population.frame
    target = population.schema.target
    if target != "defaulted":
        frame = frame.assign(defaulted=frame[target].to_numpy())
    first = predictions[predictions["repeat"] == 0]
    twins = tl_scores = tl_twins = None
    ids = frame["citizen_id"].to_numpy()

    def long(p_by_model: dict[str, np.ndarray]) -> pd.DataFrame:
        names = list(p_by_model)
        return pd.DataFrame({
            "citizen_id": np.tile(ids, len(names)),
            "model": pd.Categorical.from_codes(np.repeat(np.arange(len(names)), len(ids)),
                                               categories=names),
            "p_default": np.concatenate([p_by_model[n] for n in names]),
            "score": np.concatenate([scale.points(p_by_model[n]) for n in names])})

    if twin_frame is not None and twin_oof:
        twins = (first[["citizen_id", "model", "p_default", "score"]], long(twin_oof))
    if true_label is not None:
        tl_scores = long(true_label[0])
        tl_twins = long(true_label[1]) if true_label[1] else None
    return fairness_audit(
        frame, first, fairness=fairness, decision=decision, scale=scale, age=age, seed=seed,
        model_inputs={m.name: m.columns for m in models}, explanations=explanations,
        twins=twins, twin_frame=twin_frame, true_label_predictions=tl_scores,
        true_label_twins=tl_twins, feature_columns=population.schema.with_role("feature"),
        protected_columns=population.schema.with_role("protected"))
