"""The evaluation stage of a run: metrics per model, paired tests, the leaderboard and the
predictions table, all from the out-of-fold probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import Decision, Evaluation, Fairness
from scorelab.core.ages import AgeSpec
from scorelab.core.scale import ScoreScale, decide, society_scale
from scorelab.data.groups import group_column
from scorelab.engine import Fold, PreparedModel, fold_of
from scorelab.evaluate.compare import compare_to_best, friedman_holm
from scorelab.evaluate.metrics import auc, bootstrap_intervals, metric_table

__all__ = ["evaluate", "leaderboard", "predictions_table"]


def _model_metrics(p: np.ndarray, y: np.ndarray, frame: pd.DataFrame,
                   held_out_by: np.ndarray, setting: _Setting, truth: bool,
                   cut: tuple[np.ndarray, float] | None = None) -> dict[str, Any]:
    """Accuracy, decision and scale figures of one model's out-of-fold probabilities.

    ``cut`` (the cost policy): each citizen's cut-off (their fold's) and the model's
    reported cut-off, instead of the configured rule."""
    ev, scale, fair, age = setting.evaluation, setting.scale, setting.fairness, setting.age
    points = scale.points(p)
    approved, cutoff = decide(points, setting.decision)
    if cut is not None:
        approved, cutoff = points >= cut[0], cut[1]
    result: dict[str, Any] = {
        "observed": metric_table(y, p, approved),
        "intervals": {k: list(v) for k, v in bootstrap_intervals(
            y, p, approved, n_boot=ev.bootstrap, confidence=ev.confidence,
            seed=setting.seed).items()} if ev.bootstrap > 0 else {},
        "decision": {"cutoff_score": cutoff, "approved": int(approved.sum())},
        "per_fold_auc": [float(auc(y[held_out_by == k], p[held_out_by == k]))
                         for k in range(int(held_out_by.max()) + 1)],
    }
    if truth:
        result["true_outcome"] = metric_table(frame["true_default"].to_numpy(), p, approved)
        oracle = auc(y, frame["true_pd"].to_numpy())
        result["oracle_ratio"] = float(result["observed"]["auc"] / oracle)
    scale_rows = [society_scale(points).assign(attribute="all")]
    for attribute in fair.attributes:  # the audited attributes: the population's own
        if attribute in frame:
            groups = group_column(frame, attribute, age.bands, age.column,
                                  fair.missing_protected)
            table = society_scale(points, groups)
            scale_rows.append(table[table.iloc[:, 0] != "all"].assign(attribute=str(groups.name)))
    result["society_scale"] = pd.concat(scale_rows, ignore_index=True).to_dict("records")
    return result


@dataclass(frozen=True)
class _Setting:
    """What the metrics of one model read besides its probabilities."""

    evaluation: Evaluation
    decision: Decision
    fairness: Fairness
    scale: ScoreScale
    age: AgeSpec
    seed: int


def evaluate(models: list[PreparedModel], oof: dict[str, np.ndarray], y: np.ndarray,
             frame: pd.DataFrame, folds: list[Fold], *, evaluation: Evaluation,
             decision: Decision, fairness: Fairness, scale: ScoreScale, age: AgeSpec,
             seed: int, cutoffs: dict[str, tuple[np.ndarray, float]] | None = None
             ) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics per model (first repeat pooled), paired tests and fold ranks.

    ``evaluation`` sets the bootstrap, ``decision`` and ``scale`` the approvals, and the
    society scale is reported per group of ``fairness.attributes`` (ages cut by ``age``).
    ``cutoffs`` (the cost policy): per model, each citizen's first-repeat cut-off and
    the model's reported cut-off."""
    setting = _Setting(evaluation, decision, fairness, scale, age, seed)
    truth = "true_pd" in frame and "true_default" in frame
    held_out_by = fold_of(folds, y.size)
    first = {name: p[0] for name, p in oof.items()}
    per_model = {m.name: {"family": m.spec.family, "kind": m.kind, "role": m.role,
                          "inputs": m.columns,
                          **_model_metrics(first[m.name], y, frame, held_out_by, setting,
                                           truth, (cutoffs or {}).get(m.name))}
                 for m in models}
    fold_scores = pd.DataFrame({
        name: [auc(y[f.test], p[f.repeat, f.test]) for f in folds] for name, p in oof.items()},
        index=[f"r{f.repeat}f{f.fold}" for f in folds])
    metrics: dict[str, Any] = {
        "models": per_model,
        "n_citizens": int(y.size),
        "default_rate": float(y.mean()),
        "comparison_to_best": (_records(compare_to_best(y, first)) if len(first) > 1 else []),
        "fold_ranks": _fold_ranks(fold_scores) if len(first) > 1 and len(folds) > 1 else {},
        "fold_auc": fold_scores.reset_index(names="split").to_dict("records"),
    }
    if truth:
        metrics["oracle"] = {"auc": float(auc(y, frame["true_pd"].to_numpy())),
                             "auc_true_outcome": float(auc(frame["true_default"].to_numpy(),
                                                           frame["true_pd"].to_numpy()))}
    return metrics, leaderboard(metrics)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN -> None)."""
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict("records")]


def _fold_ranks(fold_scores: pd.DataFrame) -> dict[str, Any]:
    """Friedman mean ranks with Holm pairwise tests, JSON-ready, with a plain summary."""
    ranks = friedman_holm(fold_scores)
    pairwise = ranks["pairwise"]
    ranks["mean_ranks"] = {str(k): float(v) for k, v in ranks["mean_ranks"].items()}
    ranks["pairwise"] = _records(pairwise)
    n_pairs = len(pairwise)
    n_sig = int(pairwise["significant"].sum()) if n_pairs else 0
    ranks["summary"] = (
        f"Fold ranks ({ranks['test']}, p={ranks['p_value']:.3g}): {n_sig} of {n_pairs} "
        f"pairwise differences are significant after Holm correction; "
        f"{n_pairs - n_sig} are not.")
    return ranks


def _nan_if_none(value: Any) -> float:
    return np.nan if value is None else float(value)


def leaderboard(metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per model, best AUC first, with intervals and the test against the best."""
    rows = []
    tests = {r["model"]: r for r in metrics["comparison_to_best"]}
    ranks = metrics.get("fold_ranks", {}).get("mean_ranks", {})
    for name, m in metrics["models"].items():
        obs, ci = m["observed"], m["intervals"]
        row = {"model": name, "family": m["family"], "kind": m["kind"], "role": m["role"],
               "auc": obs["auc"], "auc_low": ci.get("auc", [np.nan, np.nan])[0],
               "auc_high": ci.get("auc", [np.nan, np.nan])[1], "gini": obs["gini"],
               "ks": obs["ks"], "brier": obs["brier"], "log_loss": obs["log_loss"],
               "ece": obs["ece"], "h_measure": obs["h_measure"],
               "approval_rate": obs.get("approval_rate", np.nan),
               "default_rate_approved": obs.get("default_rate_approved", np.nan)}
        if "true_outcome" in m:
            row["auc_true"] = m["true_outcome"]["auc"]
            row["oracle_ratio"] = m["oracle_ratio"]
        test = tests.get(name, {})
        row["p_vs_best"] = _nan_if_none(test.get("p_value"))
        row["p_vs_best_holm"] = _nan_if_none(test.get("p_holm"))
        row["significant_vs_best"] = bool(test.get("significant", False))
        row["verdict"] = test.get("verdict", "")
        row["mean_rank"] = ranks.get(name, np.nan)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("auc", ascending=False, ignore_index=True)


def predictions_table(models: list[PreparedModel], oof: dict[str, np.ndarray],
                      folds: list[Fold], citizen_id: np.ndarray, scale: ScoreScale,
                      cutoffs: dict[str, Any], outcomes: dict[str, np.ndarray]
                      ) -> pd.DataFrame:
    """The long table: citizen, model, family, kind, repeat, fold, p_default, score,
    category, approved (at the model's cut-off), that cut-off and the outcomes (observed
    ``defaulted``; ``true_default`` on synthetic data), so every reader works from the
    run directory. A model's cut-off is one number, or (the cost policy) one per
    repeat and citizen: the cut-off of the fold that held the citizen out."""
    repeats = max(f.repeat for f in folds) + 1
    held_out_by = [fold_of(folds, citizen_id.size, r).astype(np.int16) for r in range(repeats)]
    parts = []
    for m in models:
        p = oof[m.name]
        for repeat in range(p.shape[0]):
            points = scale.points(p[repeat])
            cut = np.broadcast_to(np.asarray(cutoffs[m.name], dtype=np.float64), p.shape)[repeat]
            parts.append(pd.DataFrame({
                "citizen_id": citizen_id, "model": m.name, "family": m.spec.family,
                "kind": m.kind, "repeat": np.int16(repeat), "fold": held_out_by[repeat],
                "p_default": p[repeat], "score": points,
                "category": scale.category(points), "approved": points >= cut, "cutoff": cut,
                **outcomes}))
    table = pd.concat(parts, ignore_index=True)
    for col in ("model", "family", "kind", "category"):
        table[col] = table[col].astype(str).astype("category")
    return table
