"""Credit practice of a run: each model judged under the decision policies a lender
uses, what its decisions cost, and how stable its population is.

Three policies, each a way to turn scores into approvals:

- ``cutoff``: the configured fixed cut-off score, the same for every model;
- ``approval_rate``: every model approves the same share (the matched rate), so that
  two models' fairness figures compare like with like (exactly the same number of
  citizens, ties at the margin broken by a seeded draw; when this policy decides, the
  run's own rule, :func:`scorelab.core.scale.decide`, which approves every tie);
- ``cost`` (when ``decision.costs`` is set): each fold's cost-minimising cut-off,
  chosen on that fold's training citizens only (scored by the fold's own model), then
  applied to the held-out citizens. A model's reported cut-off (the one new applicants
  meet) is the median over citizens of the cut-off each was judged by.

``decision.policy`` says which one decides the run's approvals (predictions, metrics,
fairness); the other two are reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from scorelab.config import Decision, Evaluation
from scorelab.core.scale import ScoreScale, approve_share, decide
from scorelab.engine import Fold, FoldResults, PreparedModel
from scorelab.evaluate.costs import (
    Costs,
    cost_curve,
    cost_interval,
    expected_cost,
    training_fold_cutoffs,
)
from scorelab.evaluate.metrics import approval_metrics
from scorelab.evaluate.stability import input_fold_stability, light, psi

__all__ = ["Practice", "decision_practice", "fold_cost_cutoffs", "matched_rate", "policy_of",
           "score_stability", "training_points"]

#: Points between two cut-offs of the stored cost curve.
CURVE_STEP = 5.0


@dataclass
class Practice:
    """The practice figures of a run (``metrics.json`` field ``practice``), the
    leaderboard's policy columns, and each citizen's cut-off per model and repeat under
    the run's policy (None: one cut-off per model, as :func:`scale.decide` gives)."""

    summary: dict[str, Any]
    board: pd.DataFrame
    cutoffs: dict[str, np.ndarray] | None = None
    reported_cutoffs: dict[str, float] = field(default_factory=dict)


def policy_of(decision: Decision) -> str:
    """The policy that decides the run's approvals."""
    if decision.policy is not None:
        return decision.policy
    return "approval_rate" if decision.target_approval_rate is not None else "cutoff"


def matched_rate(decision: Decision, y: np.ndarray) -> float:
    """The share every model approves in the matched comparison: the configured target
    or matched rate, else the share of good payers observed."""
    for value in (decision.target_approval_rate, decision.matched_approval_rate):
        if value is not None:
            return float(value)
    return float(1.0 - np.mean(y))


def decision_costs(decision: Decision) -> Costs | None:
    """The decision's misclassification costs, if it has any."""
    c = decision.costs
    return None if c is None else Costs(c.false_accept, c.false_reject)


def training_points(models: list[PreparedModel], fits: FoldResults, frame: pd.DataFrame,
                    folds: list[Fold], scale: ScoreScale
                    ) -> dict[str, dict[tuple[int, int], np.ndarray]]:
    """Each fold model's scores of its own training citizens, per model and (repeat,
    fold): the development sample as the model that was fitted on it sees it. Taken
    from ``fits.train_p`` where the fold engine scored them beside the fit."""
    out: dict[str, dict[tuple[int, int], np.ndarray]] = {}
    with threadpool_limits(1):
        for m in models:
            X, given = frame[m.columns], fits.train_p.get(m.name, {})
            out[m.name] = {}
            for f in folds:
                key = (f.repeat, f.fold)
                p = given.get(key)
                if p is None:
                    p = fits.fold_models[m.name][key].predict_proba(X.iloc[f.train])[:, 1]
                out[m.name][key] = scale.points(p)
    return out


def fold_cost_cutoffs(models: list[PreparedModel], fits: FoldResults, frame: pd.DataFrame,
                      y: np.ndarray, folds: list[Fold], scale: ScoreScale, costs: Costs,
                      train_points: dict[str, dict[tuple[int, int], np.ndarray]] | None = None
                      ) -> dict[str, dict[tuple[int, int], float]]:
    """Each model's cost-minimising cut-off per (repeat, fold), chosen on the fold's
    training citizens only: their labels and their scores by the fold model (which was
    fitted on them alone). The held-out citizens play no part."""
    points = train_points or training_points(models, fits, frame, folds, scale)
    out: dict[str, dict[tuple[int, int], float]] = {}
    for m in models:
        cuts = training_fold_cutoffs([points[m.name][(f.repeat, f.fold)] for f in folds],
                                     [y[f.train] for f in folds], costs)
        out[m.name] = {(f.repeat, f.fold): c for f, c in zip(folds, cuts, strict=True)}
    return out


def score_stability(train_points: dict[tuple[int, int], np.ndarray], oof: np.ndarray,
                    folds: list[Fold], scale: ScoreScale) -> list[dict[str, Any]]:
    """The score's PSI between each fold's training and test citizens (first repeat),
    both scored by that fold's model: on random folds it stays low (an overfitted
    model spreads its training scores more); on an out-of-time fold it measures the
    drift the model meets."""
    rows = []
    for f in folds:
        if f.repeat == 0:
            value = psi(train_points[(0, f.fold)], scale.points(oof[0, f.test]))
            rows.append({"fold": int(f.fold), "psi": value, "light": light(value)})
    return rows


def _per_citizen(cuts: dict[tuple[int, int], float], folds: list[Fold], n: int) -> np.ndarray:
    """(repeats, citizens): the cut-off of the fold that held each citizen out."""
    repeats = max(f.repeat for f in folds) + 1
    out = np.full((repeats, n), np.nan)
    for f in folds:
        out[f.repeat, f.test] = cuts[(f.repeat, f.fold)]
    return out


def _figures(y: np.ndarray, approved: np.ndarray, costs: Costs | None,
             evaluation: Evaluation, seed: int) -> dict[str, Any]:
    """Approval, bad rate among the approved and (with costs) the expected cost with its
    bootstrap interval, of one policy's decisions."""
    row: dict[str, Any] = {k: v for k, v in approval_metrics(y, approved).items()
                           if k != "default_rate_rejected"}
    if costs is not None:
        ev = evaluation
        row["expected_cost"] = expected_cost(y, approved, costs)
        row["expected_cost_interval"] = (list(cost_interval(
            y, approved, costs, ev.bootstrap, ev.confidence, seed))
            if ev.bootstrap >= 2 else [None, None])
    return row


def _curve(y: np.ndarray, points: np.ndarray, costs: Costs, scale: ScoreScale
           ) -> dict[str, list[float]]:
    grid = np.arange(scale.low, scale.high + CURVE_STEP, CURVE_STEP)
    curve = cost_curve(y, points, costs, grid)
    return {k: [float(v) for v in values] for k, values in curve.items()}


def decision_practice(models: list[PreparedModel], fits: FoldResults, frame: pd.DataFrame,
                      y: np.ndarray, folds: list[Fold], *, decision: Decision,
                      evaluation: Evaluation, scale: ScoreScale, seed: int,
                      stability_columns: list[str]) -> Practice:
    """Every model under the three policies, the cost curve and the fold stability."""
    costs = decision_costs(decision)
    policy = policy_of(decision)
    rate = matched_rate(decision, y)
    train_points = training_points(models, fits, frame, folds, scale)
    fold_cuts = (fold_cost_cutoffs(models, fits, frame, y, folds, scale, costs, train_points)
                 if costs is not None else {})
    n = y.size
    fixed = decision.cutoff_score
    per_model: dict[str, Any] = {}
    board, cutoffs, reported = [], {}, {}
    for m in models:
        p = fits.oof[m.name][0]
        points = scale.points(p)
        matched, matched_cut = (decide(points, decision) if policy == "approval_rate"
                                else approve_share(points, rate, seed))
        policies: dict[str, Any] = {}
        if fixed is not None:
            policies["cutoff"] = {"cutoff_score": float(fixed),
                                  **_figures(y, points >= fixed, costs, evaluation, seed)}
        policies["approval_rate"] = {"matched_share": rate,
                                     "cutoff_score": matched_cut,
                                     **_figures(y, matched, costs, evaluation, seed)}
        entry: dict[str, Any] = {"policies": policies}
        if costs is not None:
            cuts = fold_cuts[m.name]
            citizen = _per_citizen(cuts, folds, n)
            median = float(np.median(citizen[0]))  # the audit's figure too
            policies["cost"] = {"cutoff_score": median,
                                "fold_cutoffs": {f"r{r}f{k}": c for (r, k), c in cuts.items()},
                                **_figures(y, points >= citizen[0], costs, evaluation, seed)}
            entry["cost_curve"] = _curve(y, points, costs, scale)
            if policy == "cost":
                cutoffs[m.name], reported[m.name] = citizen, median
        entry["score_stability"] = score_stability(train_points[m.name], fits.oof[m.name],
                                                   folds, scale)
        per_model[m.name] = entry
        chosen = policies.get(policy, policies["approval_rate"])
        board.append({"model": m.name, "policy": policy,
                      "matched_approval_rate": rate,
                      "matched_default_rate_approved": policies["approval_rate"][
                          "default_rate_approved"],
                      "expected_cost": chosen.get("expected_cost", np.nan),
                      "expected_cost_low": (chosen.get("expected_cost_interval") or
                                            [None])[0],
                      "expected_cost_high": (chosen.get("expected_cost_interval") or
                                             [None, None])[1],
                      "score_psi_worst": max(r["psi"] for r in entry["score_stability"])})
    columns = [c for c in stability_columns if c in frame.columns]
    oot = evaluation.folds if evaluation.split == "time" else None
    summary = {
        "policy": policy,
        "matched_approval_rate": rate,
        "costs": (None if costs is None else
                  {"false_accept": costs.false_accept, "false_reject": costs.false_reject,
                   "break_even_pd": costs.break_even}),
        "split": evaluation.split,
        "out_of_time_fold": oot,
        "out_of_time_share": (None if oot is None else float(np.mean(
            [f.test.size for f in folds if f.fold == oot]) / n)),
        "models": per_model,
        "input_stability": input_fold_stability(frame, columns, folds).to_dict("records"),
    }
    return Practice(summary, pd.DataFrame(board), cutoffs or None, reported)

