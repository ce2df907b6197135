"""The analyses beside accuracy, wired into a run: explanations and the fairness audit.

The fold models do the model-dependent work while they are alive (see
:class:`scorelab.study.AuditPlan`): each explains the audited citizens it held out and
scores their counterfactual twins. This module decides what they do and turns their
outputs into the run's artifacts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig, SyntheticPopulation
from scorelab.data.synthetic import Population, counterfactual_twins
from scorelab.scale import scale_from_config

if TYPE_CHECKING:
    from scorelab.study import AuditPlan, FoldResults, PreparedModel

ADDITIVITY_TOLERANCE = 1e-6  # log-odds; base + contributions must reproduce the output


def audit_plan(config: ExperimentConfig, population: Population) -> AuditPlan | None:
    """The audit sample (seeded, the same citizens for every family) and the twins."""
    from scorelab.study import AuditPlan

    frame = population.frame
    n = len(frame)
    order = np.random.default_rng([config.seed, 4]).permutation(n)
    audit = np.zeros(n, dtype=bool)
    audit[order[:min(config.explain.sample_size, n)]] = True
    agnostic = np.zeros(n, dtype=bool)  # nested: the first citizens of the same order
    agnostic[order[:min(config.explain.agnostic_sample_size, config.explain.sample_size, n)]] = True
    twin_frame = None
    if (config.fairness.enabled and isinstance(config.population, SyntheticPopulation)
            and "age" in frame):
        shift = config.fairness.twin_age_shift
        twin_frame = counterfactual_twins(config.population, config.seed,
                                          {"age": lambda a: a + shift}).frame
    explain_cfg = config.explain if config.explain.enabled else None
    if explain_cfg is None and twin_frame is None:
        return None
    return AuditPlan(audit, agnostic, twin_frame, explain_cfg, config.seed)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return np.log(p) - np.log1p(-p)


def explanation_artifacts(models: list[PreparedModel], fits: FoldResults,
                          population: Population) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The explanations long table and importance.json (with the additivity check)."""
    from scorelab.explain.explainers import SCALE
    from scorelab.explain.importance import (
        agreement,
        explanations_table,
        global_importance,
        true_drivers,
    )

    frame = population.frame
    ids = frame["citizen_id"].to_numpy()
    tables, additivity = [], {}
    for m in models:
        name = m.spec.name
        errors, gaps = [0.0], [0.0]
        for rows, explanation in fits.explanations.get(name, []):
            tables.append(explanations_table(ids[rows], name, m.spec.family, explanation,
                                             frame[m.columns].iloc[rows], population.schema))
            errors.append(explanation.additivity_error())
            if rows.size:
                gaps.append(float(np.max(np.abs(
                    _logit(fits.oof[name][0, rows]) - explanation.output))))
        error, gap = max(errors), max(gaps)
        additivity[name] = {
            "max_additivity_error": error, "max_output_gap": gap,
            "tolerance": ADDITIVITY_TOLERANCE,
            "passed": bool(error <= ADDITIVITY_TOLERANCE and gap <= 1e-4),
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
        "explain_seconds": fits.explain_seconds,
        "n_citizens": int(table["citizen_id"].nunique()),
    })
    return table, importance


def fairness_artifacts(config: ExperimentConfig, population: Population,
                       models: list[PreparedModel], predictions: pd.DataFrame,
                       fits: FoldResults, plan: AuditPlan | None,
                       explanations: pd.DataFrame | None
                       ) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """fairness.json, fairness_by_group and the leaderboard's fairness columns."""
    from scorelab.fairness.audit import fairness_audit

    frame = population.frame
    target = population.schema.target
    if target != "defaulted":
        frame = frame.assign(defaulted=frame[target].to_numpy())
    first = predictions[predictions["repeat"] == 0]
    twins = twin_frame = None
    if plan is not None and plan.twin_frame is not None and fits.twin_oof:
        scale = scale_from_config(config.scale)
        ids = frame["citizen_id"].to_numpy()
        factual = first[["citizen_id", "model", "p_default", "score"]].assign(
            model=lambda t: t["model"].astype(str))
        twin = pd.concat([pd.DataFrame({"citizen_id": ids, "model": name, "p_default": p,
                                        "score": scale.points(p)})
                          for name, p in fits.twin_oof.items()], ignore_index=True)
        twins = (factual, twin)
        twin_frame = plan.twin_frame
    fairness, by_group, columns = fairness_audit(
        config, frame, first, {m.spec.name: m.columns for m in models},
        explanations=explanations, twins=twins, twin_frame=twin_frame,
        feature_columns=population.schema.with_role("feature"))
    if "age" in frame:
        from scorelab.fairness.age import sweep_note

        fairness["label_cut_sweep"] = label_cut_sweep(config, frame)
        for name, entry in fairness.get("models", {}).items():
            sweep = pd.DataFrame((entry.get("age") or {}).get("cut_sweep") or [])
            if {"ratio", "passes", "cut"} <= set(sweep.columns):
                sweep["ratio"] = pd.to_numeric(sweep["ratio"], errors="coerce")
                entry["age"]["cut_sweep_note"] = sweep_note(
                    sweep, f"the approval rate of model '{name}'")
    return fairness, by_group, columns


def label_cut_sweep(config: ExperimentConfig, frame: pd.DataFrame) -> dict[str, Any]:
    """The cut-point sweep of the observed labels themselves (good-outcome rates).

    Before any model: how the young fare in the recorded outcomes, for every cut, with a
    plain note on whether the four-fifths verdict depends on the cut.
    """
    from scorelab.fairness.age import cut_point_sweep, sweep_note
    from scorelab.fairness.audit import jsonable

    fair = config.fairness
    good = 1 - frame["defaulted"].to_numpy(dtype=float)
    sweep = cut_point_sweep(frame["age"], good, fair.cut_sweep[0], fair.cut_sweep[1],
                            fair.four_fifths)
    return {"records": jsonable(sweep.to_dict("records")),
            "note": sweep_note(sweep, "the observed good-outcome rate")}
