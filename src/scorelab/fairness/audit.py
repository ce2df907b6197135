"""The fairness audit: group metrics, disparities, the age audit and policy flags.

:func:`fairness_audit` takes a population, any predictions table (a run's, or a model's
scores of a table of one's own) and the sections it uses, like fairlearn's metrics take
arrays: usable outside a study. With whatever else is available (explanations, twin
predictions, models trained on the true outcome) it adds the analyses they allow. It
returns :class:`FairnessAudit`: the typed ``fairness.json`` of the run contract, the long
group table and the leaderboard's fairness columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import SYNTHETIC_PROTECTED, Decision, Fairness
from scorelab.core.ages import AgeSpec
from scorelab.core.jsonable import jsonable
from scorelab.core.progress import step as progress_step
from scorelab.core.scale import ScoreScale, decide
from scorelab.fairness.age import (
    AGE_PROXIES,
    age_gap_decomposition,
    cut_point_sweep,
    proxy_audit,
    score_by_age,
    shap_by_age_band,
    sweep_note,
    twin_effects,
)
from scorelab.fairness.counts import bootstrap_weights
from scorelab.fairness.groups import attribute_groups, disparities, group_metrics
from scorelab.fairness.policy import policy_checks
from scorelab.fairness.screen import screen_all, worst_screen
from scorelab.runs.contract import FairnessReport

__all__ = ["FairnessAudit", "fairness_audit", "label_cut_sweep", "shap_importance"]


@dataclass(frozen=True)
class FairnessAudit:
    """What the audit found: ``report`` is ``fairness.json`` (the run contract's type),
    ``by_group`` the group metrics of every model (``fairness_by_group.parquet``) and
    ``columns`` one leaderboard row per model (worst approval ratio, four-fifths verdict,
    age gap, policy flags)."""

    report: FairnessReport
    by_group: pd.DataFrame
    columns: pd.DataFrame


def shap_importance(explanations: pd.DataFrame) -> dict[str, dict[str, float]]:
    """model -> feature -> share of the model's mean |SHAP| (shares sum to 1)."""
    ex = explanations.assign(abs_shap=explanations["shap"].abs(),
                             model=explanations["model"].astype(str),
                             feature=explanations["feature"].astype(str))
    mean = ex.groupby(["model", "feature"], sort=True)["abs_shap"].mean()
    out: dict[str, dict[str, float]] = {}
    for model, part in mean.groupby(level=0):
        total = float(part.sum())
        out[str(model)] = {str(f): (float(v) / total if total > 0 else 0.0)
                           for (_, f), v in part.items()}
    return out


def _by_citizen(table: pd.DataFrame, model: str, ids: np.ndarray, column: str) -> np.ndarray:
    """``column`` of ``model``'s rows in the order of ``ids`` (NaN where it has none).

    The model column is compared as it is (a categorical compares its codes; never
    converted to strings: this runs a few times per model on citizens x models rows),
    and rows already in the order of ``ids`` are taken as they are."""
    part = table[table["model"] == model]
    if np.array_equal(part["citizen_id"].to_numpy(), ids):
        return part[column].to_numpy(dtype=float)
    return part.set_index("citizen_id")[column].reindex(ids).to_numpy(dtype=float)


def fairness_audit(frame: pd.DataFrame, predictions: pd.DataFrame, *, fairness: Fairness,
                   decision: Decision, scale: ScoreScale, age: AgeSpec, seed: int,
                   model_inputs: Mapping[str, Sequence[str]] | None = None,
                   explanations: pd.DataFrame | None = None,
                   twins: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                   twin_frame: pd.DataFrame | None = None,
                   true_label_predictions: pd.DataFrame | None = None,
                   true_label_twins: pd.DataFrame | None = None,
                   feature_columns: Sequence[str] | None = None,
                   protected_columns: Sequence[str] | None = None) -> FairnessAudit:
    """The whole fairness and age audit of some models' predictions.

    Parameters
    ----------
    frame : the population (citizen_id, protected attributes, features; ``defaulted``;
        truth columns true_default / true_pd when synthetic).
    predictions : the predictions table (citizen_id, model, p_default, score, ...); only
        repeat 0 is used.
    fairness : the audited attributes, bands, thresholds and bootstrap.
    decision, scale : how a probability becomes points and an approval (a table's own
        ``cutoff`` column, where the predictions carry one, is used instead).
    age : the age attribute and its bands (the young are the first band).
    seed : seed of the bootstrap.
    model_inputs : model -> its input columns (policy check of direct inputs; none
        checked without it).
    explanations : optional long table (citizen_id, model, feature, shap).
    twins : optional (factual, twin) long tables (citizen_id, model, p_default, score)
        from the same fold models, the twins re-drawn with age + twin_age_shift.
    twin_frame : optional twin population (citizen_id, true_pd) for the decomposition.
    true_label_predictions : optional predictions (citizen_id, model, score) of the same
        models trained on the true outcome (label-bias part of the decomposition).
    true_label_twins : optional twin scores (citizen_id, model, score) of those models:
        the twin-based part is then theirs (label bias counted once, in its own part).
    feature_columns : columns the schema marks as features (default: the union of the
        model inputs minus protected columns).
    protected_columns : the population's protected columns (default: the synthetic
        population's), never allowed as direct inputs.

    The age analyses follow the config's age attribute (the synthetic ``age`` or the
    column a table declares ``age``) when it is audited (in ``fairness.attributes``);
    citizens whose age is missing are left out of them.

    Returns
    -------
    FairnessAudit
        ``report`` (fairness.json) has: thresholds (four_fifths,
        min_group_size, bootstrap, age_bands, cutoff_score, young_band, shap_threshold,
        twin_age_shift), definitions, models (per model: cutoff_score, disparities
        [records, with p_holm_approval and screen: see fairness.screen], screen (the
        worst of its attributes), verdicts {attribute: pass|fail|not assessed},
        suppressed_groups
        [{outcome, attribute, group, reason}], age {young_band, approval_young,
        approval_rest, approval_ratio, approval_gap, score_gap, score_by_age [records],
        cut_sweep [records], decomposition (if truth: the parts of the age gap, each
        with a bootstrap interval; see age_gap_decomposition), twin_effects [records]
        (if twins)}), proxy_audit [records], shap_by_age_band [records] (if explanations),
        policy_flags [dicts], label_cut_sweep (the recorded outcomes' own sweep).
        ``by_group`` is the group_metrics long table of every model, with a leading
        ``model`` column; ``columns`` one row per model: model, worst_approval_ratio (min
        over the
        audited attributes, observed outcome), worst_approval_attribute, screen,
        worst_equalized_odds_difference, four_fifths_verdict (fail if any attribute
        fails), age_gap (approval rate of the young band minus the rest, in rate
        points; negative = the young are approved less), age_approval_ratio,
        age_score_gap (mean points young minus rest), n_policy_flags.
    """
    fair = fairness
    edges = list(age.bands)
    young_limit = age.young_limit
    model_inputs = model_inputs or {}
    preds = predictions
    if "repeat" in preds.columns:
        preds = preds[preds["repeat"] == 0]
    ids = frame["citizen_id"].to_numpy()
    y_obs = frame["defaulted"].to_numpy() if "defaulted" in frame else None
    y_true = frame["true_default"].to_numpy() if "true_default" in frame else None
    age_column = age.column
    has_age = age_column is not None and age_column in fair.attributes and \
        age_column in frame
    protected = list(protected_columns) if protected_columns is not None else \
        list(SYNTHETIC_PROTECTED)
    ages = frame[age_column].to_numpy(dtype=float) if has_age else None
    known_age = ~np.isnan(ages) if ages is not None else None
    young = known_age & age.young(np.nan_to_num(ages)) if has_age else None
    rest = known_age & ~young if has_age else None
    young_band = f"{age_column} < {young_limit:g}" if age_column else None
    models = [str(m) for m in pd.unique(preds["model"])]

    # shared by every model: the groups, and the bootstrap weights (drawn once per citizen)
    groups = attribute_groups(frame, fair, age_column)
    weights = bootstrap_weights(ids, fair.bootstrap, seed)
    tables, boards, per_model = [], [], {}
    for model in models:
        p = _by_citizen(preds, model, ids, "p_default")
        points = _by_citizen(preds, model, ids, "score") if "score" in preds else \
            scale.points(p)
        approved, cutoff = decide(points, decision)
        if "cutoff" in preds:  # the run's own decisions (per fold under the cost policy)
            cuts = _by_citizen(preds, model, ids, "cutoff")
            approved, cutoff = points >= cuts, float(np.median(cuts))
        table = group_metrics(y_obs, y_true, p, points, approved, frame, fair, seed,
                              age_column=age_column, groups=groups, weights=weights)
        tables.append(table.assign(model=model))
        disp = disparities(table, fair.four_fifths)
        obs = disp[disp["outcome"] == "observed"]
        suppressed = table[table["suppressed"] & (table["metric"] == "approval_rate")]
        partial = table[table["suppressed"] & (table["metric"] != "approval_rate")
                        & ~table["group"].isin(suppressed["group"])]
        entry: dict[str, Any] = {
            "cutoff_score": cutoff,
            "disparities": disp,
            "verdicts": {f"{r.outcome}:{r.attribute}": r.four_fifths_verdict
                         for r in disp.itertuples()},
            "suppressed_groups": [
                {"outcome": r.outcome, "attribute": r.attribute, "group": r.group,
                 "metric": "all" if r.metric == "approval_rate" else r.metric,
                 "reason": r.suppressed_reason}
                for r in pd.concat([suppressed, partial]).itertuples()],
        }
        age_row: dict[str, Any] = {}
        if has_age:
            a = approved.astype(float)
            appr_y, appr_r = a[young].mean() if young.any() else np.nan, \
                a[rest].mean() if rest.any() else np.nan
            age_row = {"approval_young": appr_y, "approval_rest": appr_r,
                       "approval_ratio": appr_y / appr_r if appr_r > 0 else np.nan,
                       "approval_gap": appr_y - appr_r,
                       "score_gap": float(points[young].mean() - points[rest].mean())
                       if young.any() and rest.any() else np.nan}
            age_info: dict[str, Any] = {
                "attribute": age_column,
                "young_band": young_band,
                **age_row,
                "score_by_age": score_by_age(ages[known_age], points[known_age],
                                             approved[known_age]),
            }
            sweep = cut_point_sweep(ages[known_age], approved[known_age],
                                    fair.cut_sweep[0], fair.cut_sweep[1], fair.four_fifths)
            age_info["cut_sweep"] = sweep
            age_info["cut_sweep_note"] = sweep_note(
                sweep, f"the approval rate of model '{model}'")
            if twins is not None:
                fact, twin = twins
                fact_m = fact[fact["model"] == model]
                twin_m = twin[twin["model"] == model]
                if len(fact_m):
                    age_info["twin_effects"] = twin_effects(
                        fact_m, twin_m, frame.set_index("citizen_id")[age_column], edges,
                        cutoff)
            if "true_pd" in frame:
                twin_points = twin_true = tl_points = tl_twin = twin_age = None
                if twins is not None:
                    twin_points = _by_citizen(twins[1], model, ids, "score")
                    fact_points = _by_citizen(twins[0], model, ids, "score")
                    # use the twins' own factual scores where given (same fold models)
                    twin_points = points + (twin_points - fact_points)
                if twin_frame is not None and "true_pd" in twin_frame:
                    twin_true = twin_frame.set_index("citizen_id")["true_pd"].reindex(ids) \
                        .to_numpy(dtype=float)
                    if age_column in twin_frame:  # the twins' ages: matched to citizens'
                        twin_age = twin_frame.set_index("citizen_id")[age_column] \
                            .reindex(ids).to_numpy(dtype=float)
                if true_label_predictions is not None:
                    tl_points = _by_citizen(true_label_predictions, model, ids, "score")
                    if np.isnan(tl_points).any():
                        tl_points = None
                    elif true_label_twins is not None:
                        tl_twin = _by_citizen(true_label_twins, model, ids, "score")
                age_info["decomposition"] = age_gap_decomposition(
                    points, young, frame["true_pd"].to_numpy(), twin_points, twin_true,
                    tl_points, y_obs, y_true, bootstrap=fair.bootstrap, seed=seed,
                    folds=_by_citizen(preds, model, ids, "fold") if "fold" in preds else None,
                    twin_points_true_label=tl_twin, weights=weights, age=ages,
                    twin_age=twin_age)
            entry["age"] = age_info
        per_model[model] = entry
        progress_step(len(per_model), len(models))  # the fairness bar moves per model
        worst = obs.sort_values("worst_approval_ratio", na_position="last")
        boards.append({
            "model": model,
            "worst_approval_ratio": (float(worst["worst_approval_ratio"].iloc[0])
                                     if len(worst) else np.nan),
            "worst_approval_attribute": (worst["attribute"].iloc[0] if len(worst) and
                                         np.isfinite(worst["worst_approval_ratio"].iloc[0])
                                         else None),
            "worst_equalized_odds_difference": (float(obs["equalized_odds_difference"].max())
                                                if len(obs) else np.nan),
            "four_fifths_verdict": ("fail" if (obs["four_fifths_verdict"] == "fail").any()
                                    else "pass"),
            "age_gap": age_row.get("approval_gap", np.nan),
            "age_approval_ratio": age_row.get("approval_ratio", np.nan),
            "age_score_gap": age_row.get("score_gap", np.nan),
        })

    screened = screen_all({m: e["disparities"] for m, e in per_model.items()},
                          fair.four_fifths)
    for model, entry in per_model.items():
        entry["disparities"] = screened[model]
        observed = screened[model][screened[model]["outcome"] == "observed"]
        entry["screen"] = worst_screen(observed["screen"].tolist())
    for row in boards:
        row["screen"] = per_model[row["model"]]["screen"]

    features = list(feature_columns) if feature_columns is not None else sorted(
        {c for cols in model_inputs.values() for c in cols} - set(protected))
    features = [c for c in features if c in frame.columns]
    proxies = proxy_audit(frame[known_age], features, ages[known_age], young_limit) \
        if has_age and features else pd.DataFrame()
    importance = shap_importance(explanations) if explanations is not None and \
        len(explanations) else None
    flags = policy_checks(model_inputs, importance, fair.prohibited, protected,
                          fair.shap_threshold, feature_columns=features)
    board = pd.DataFrame(boards)
    n_flags = pd.Series([f["model"] for f in flags if f["model"] is not None],
                        dtype=object).value_counts()
    board["n_policy_flags"] = [int(n_flags.get(m, 0)) for m in board["model"]]
    result: dict[str, Any] = {
        "thresholds": {"four_fifths": fair.four_fifths, "min_group_size": fair.min_group_size,
                       "bootstrap": fair.bootstrap, "age_bands": edges,
                       **({"age_attribute": age_column, "young_band": young_band}
                          if has_age else {}),
                       "missing_protected": fair.missing_protected,
                       "shap_threshold": fair.shap_threshold,
                       "twin_age_shift": fair.twin_age_shift,
                       "cut_sweep": list(fair.cut_sweep)},
        "definitions": {
            "positive": "default; a rejection predicts default",
            "tpr": "share of defaulters rejected (defaulters caught)",
            "fpr": "share of non-defaulters rejected",
            "fnr": "share of defaulters approved",
            "approval_rate": "share approved (selection rate of approval)",
            "equalized_odds_difference": "max of the between-group ranges of tpr and fpr",
            "age_gap": "approval rate of the young band minus the rest",
            "suppressed": "value withheld (None), never reported as 0 or 1",
        },
        "models": per_model,
        "proxy_audit": proxies,
        "policy_flags": flags,
    }
    if has_age and explanations is not None and len(explanations):
        cols = [age_column, *[c for c in AGE_PROXIES if c in features],
                *(proxies["feature"].head(3).tolist() if len(proxies) else [])]
        result["shap_by_age_band"] = shap_by_age_band(explanations, frame, edges,
                                                      list(dict.fromkeys(cols)), age_column)
    if has_age and y_obs is not None:
        result["label_cut_sweep"] = label_cut_sweep(frame, fair, age_column)
    by_group = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if len(by_group):
        by_group = by_group[["model", *[c for c in by_group.columns if c != "model"]]]
    return FairnessAudit(FairnessReport.model_validate(jsonable(result)), by_group, board)


def label_cut_sweep(frame: pd.DataFrame, fairness: Fairness, age_column: str = "age"
                    ) -> dict[str, Any]:
    """The cut-point sweep of the observed labels themselves (good-outcome rates).

    Before any model: how the young fare in the recorded outcomes, for every cut, with a
    plain note on whether the four-fifths verdict depends on the cut.
    """
    good = 1 - frame["defaulted"].to_numpy(dtype=float)
    sweep = cut_point_sweep(frame[age_column], good, fairness.cut_sweep[0],
                            fairness.cut_sweep[1], fairness.four_fifths)
    return {"records": jsonable(sweep.to_dict("records")),
            "note": sweep_note(sweep, "the observed good-outcome rate")}
