"""The fairness stage of a run: the audit, the age twins and the label cut-point sweep.

Counterfactual age twins (synthetic populations only) are scored by the fold model that
held each citizen out, so a twin's score differs from its citizen's only by the
intervention, never by the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from scorelab.config import ExperimentConfig, SyntheticPopulation
from scorelab.data.synthetic import Population, counterfactual_twins
from scorelab.fairness.age import cut_point_sweep, sweep_note
from scorelab.fairness.audit import fairness_audit
from scorelab.jsonable import jsonable
from scorelab.protocol import Fold, FoldResults, PreparedModel
from scorelab.scale import scale_from_config

__all__ = ["fairness_artifacts", "label_cut_sweep", "score_twins", "twin_population"]


def twin_population(config: ExperimentConfig, population: Population) -> pd.DataFrame | None:
    """Every citizen re-drawn ``fairness.twin_age_shift`` years older, all else equal
    (None on a real table, where no causal model exists to re-draw from)."""
    if not (isinstance(config.population, SyntheticPopulation) and "age" in population.frame):
        return None
    shift = config.fairness.twin_age_shift
    return counterfactual_twins(config.population, config.seed,
                                {"age": lambda a: a + shift}).frame


def score_twins(models: list[PreparedModel], fits: FoldResults, twin_frame: pd.DataFrame,
                folds: list[Fold]) -> dict[str, np.ndarray]:
    """Each twin's P(default) from the first-repeat fold model that held its citizen out."""
    out = {}
    for m in models:
        p = np.full(len(twin_frame), np.nan)
        X = twin_frame[m.columns]
        with threadpool_limits(1):
            for f in folds:
                if f.repeat == 0:
                    model = fits.fold_models[m.name][(0, f.fold)]
                    p[f.test] = model.predict_proba(X.iloc[f.test])[:, 1]
        out[m.name] = p
    return out


def fairness_artifacts(config: ExperimentConfig, population: Population,
                       models: list[PreparedModel], predictions: pd.DataFrame,
                       twin_oof: dict[str, np.ndarray], twin_frame: pd.DataFrame | None,
                       explanations: pd.DataFrame | None
                       ) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """fairness.json, fairness_by_group and the leaderboard's fairness columns."""
    frame = population.frame
    target = population.schema.target
    if target != "defaulted":
        frame = frame.assign(defaulted=frame[target].to_numpy())
    first = predictions[predictions["repeat"] == 0]
    twins = None
    if twin_frame is not None and twin_oof:
        scale = scale_from_config(config.scale)
        ids = frame["citizen_id"].to_numpy()
        factual = first[["citizen_id", "model", "p_default", "score"]].assign(
            model=lambda t: t["model"].astype(str))
        twin = pd.concat([pd.DataFrame({"citizen_id": ids, "model": name, "p_default": p,
                                        "score": scale.points(p)})
                          for name, p in twin_oof.items()], ignore_index=True)
        twins = (factual, twin)
    fairness, by_group, columns = fairness_audit(
        config, frame, first, {m.name: m.columns for m in models},
        explanations=explanations, twins=twins, twin_frame=twin_frame,
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
