"""The fairness stage of a run: the audit, the age twins and the label cut-point sweep.

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

from scorelab.config import ExperimentConfig, SyntheticPopulation
from scorelab.data.synthetic import Population, counterfactual_twins
from scorelab.fairness.age import cut_point_sweep, sweep_note
from scorelab.fairness.audit import fairness_audit
from scorelab.jsonable import jsonable
from scorelab.protocol import FitSample, Fold, FoldResults, PreparedModel, fit_folds
from scorelab.scale import scale_from_config

__all__ = ["fairness_artifacts", "label_cut_sweep", "score_twins", "true_outcome_fits",
           "twin_population"]


def twin_population(config: ExperimentConfig, population: Population) -> pd.DataFrame | None:
    """Every citizen re-drawn ``fairness.twin_age_shift`` years older, all else equal
    (None on a real table, where no causal model exists to re-draw from)."""
    if not (isinstance(config.population, SyntheticPopulation) and "age" in population.frame):
        return None
    shift = config.fairness.twin_age_shift
    return counterfactual_twins(config.population, config.seed,
                                {"age": lambda a: a + shift}).frame


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


def true_outcome_fits(config: ExperimentConfig, population: Population,
                      models: list[PreparedModel], fits: FoldResults, folds: list[Fold],
                      n_jobs: int = 1) -> FoldResults | None:
    """Every model re-trained on the true outcome, on the first repeat's folds (so each
    citizen is scored by a model that never saw them, as in the study itself).

    None unless ``fairness.label_bias_refit`` is on and the population carries its true
    outcome. Where the recorded and true outcomes agree on every citizen the re-trained
    models would be the study's own (same data, labels and seeds): those are returned.
    """
    frame = population.frame
    if not (config.fairness.label_bias_refit and "true_default" in frame):
        return None
    y_true = frame["true_default"].to_numpy().astype(np.int64)
    if np.array_equal(y_true, frame[population.schema.target].to_numpy().astype(np.int64)):
        return fits
    return fit_folds(models, frame, y_true, [f for f in folds if f.repeat == 0],
                     n_jobs=n_jobs, sample=FitSample.of(config))


def fairness_artifacts(config: ExperimentConfig, population: Population,
                       models: list[PreparedModel], predictions: pd.DataFrame,
                       twin_oof: dict[str, np.ndarray], twin_frame: pd.DataFrame | None,
                       explanations: pd.DataFrame | None,
                       true_label: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]
                       | None = None
                       ) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """fairness.json, fairness_by_group and the leaderboard's fairness columns.

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
    scale = scale_from_config(config.scale)
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
    fairness, by_group, columns = fairness_audit(
        config, frame, first, {m.name: m.columns for m in models},
        explanations=explanations, twins=twins, twin_frame=twin_frame,
        true_label_predictions=tl_scores, true_label_twins=tl_twins,
        feature_columns=population.schema.with_role("feature"),
        protected_columns=population.schema.with_role("protected"))
    age_column = fairness["thresholds"].get("age_attribute")
    if age_column:  # the age analyses ran: on the audited age attribute
        fairness["label_cut_sweep"] = label_cut_sweep(config, frame, age_column)
        for name, entry in fairness.get("models", {}).items():
            sweep = pd.DataFrame((entry.get("age") or {}).get("cut_sweep") or [])
            if {"ratio", "passes", "cut"} <= set(sweep.columns):
                sweep["ratio"] = pd.to_numeric(sweep["ratio"], errors="coerce")
                entry["age"]["cut_sweep_note"] = sweep_note(
                    sweep, f"the approval rate of model '{name}'")
    return fairness, by_group, columns


def label_cut_sweep(config: ExperimentConfig, frame: pd.DataFrame,
                    age_column: str = "age") -> dict[str, Any]:
    """The cut-point sweep of the observed labels themselves (good-outcome rates).

    Before any model: how the young fare in the recorded outcomes, for every cut, with a
    plain note on whether the four-fifths verdict depends on the cut.
    """
    fair = config.fairness
    good = 1 - frame["defaulted"].to_numpy(dtype=float)
    sweep = cut_point_sweep(frame[age_column], good, fair.cut_sweep[0], fair.cut_sweep[1],
                            fair.four_fifths)
    return {"records": jsonable(sweep.to_dict("records")),
            "note": sweep_note(sweep, "the observed good-outcome rate")}
