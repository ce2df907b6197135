"""What a decision costs: expected cost per applicant, its interval, the cost curve over
cut-offs, and the cost-minimising cut-off chosen on training folds only.

Costs are the lender's misclassification matrix (``decision.costs``): approving a
defaulter costs ``false_accept``, rejecting a good payer costs ``false_reject``
(German credit's own matrix is 5:1). Approval is ``score >= cut-off``, as everywhere in
scorelab. Everything is vectorised over citizens (one sort per curve, bootstrap
replicates in blocks), never a Python loop over citizens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scorelab.exceptions import DataError

__all__ = ["Costs", "candidate_cutoffs", "citizen_costs", "cost_curve", "cost_interval",
           "expected_cost", "min_cost_cutoff", "training_fold_cutoffs"]

@dataclass(frozen=True)
class Costs:
    """A misclassification cost matrix (the correct decisions cost nothing)."""

    false_accept: float
    false_reject: float

    @property
    def break_even(self) -> float:
        """The P(default) at which approving and rejecting cost the same in expectation:
        a calibrated model approves below it."""
        return self.false_reject / (self.false_accept + self.false_reject)


def _checked(y: Any, approved_or_points: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y)
    xx = np.asarray(approved_or_points)
    if yy.ndim != 1 or yy.shape != xx.shape:
        raise DataError(f"y and {name} must be one-dimensional and of one length; got "
                        f"{yy.shape} and {xx.shape}")
    if yy.size == 0:
        raise DataError("y is empty: at least one citizen is needed")
    if not np.isin(yy, (0, 1)).all():
        raise DataError("y must hold 0 (no default) and 1 (default) only")
    return yy.astype(bool), xx


def citizen_costs(y: Any, approved: Any, costs: Costs) -> np.ndarray:
    """Each citizen's cost of the decision taken: false_accept for an approved defaulter,
    false_reject for a rejected good payer, 0 otherwise."""
    bad, app = _checked(y, approved, "approved")
    app = app.astype(bool)
    return np.where(app & bad, costs.false_accept, 0.0) + \
        np.where(~app & ~bad, costs.false_reject, 0.0)


def expected_cost(y: Any, approved: Any, costs: Costs) -> float:
    """Mean misclassification cost per applicant of an accept/reject decision."""
    return float(citizen_costs(y, approved, costs).mean())


def cost_interval(y: Any, approved: Any, costs: Costs, n_boot: int = 200,
                  confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`expected_cost` (the same ``seed`` gives
    the same interval).

    Resampling citizens with replacement only changes how many approved defaulters
    and rejected good payers a replicate holds, so each replicate is one multinomial
    draw of those two counts: exactly the citizen bootstrap, in O(replicates) time.
    """
    c = citizen_costs(y, approved, costs)
    n = c.size
    shares = [np.mean(c == costs.false_accept), np.mean(c == costs.false_reject)]
    if costs.false_accept == costs.false_reject:  # one kind of mistake, one price
        shares = [float(np.mean(c > 0)), 0.0]
    counts = np.random.default_rng(seed).multinomial(
        n, [shares[0], shares[1], max(0.0, 1.0 - shares[0] - shares[1])], size=n_boot)
    means = (counts[:, 0] * costs.false_accept + counts[:, 1] * costs.false_reject) / n
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def cost_curve(y: Any, points: Any, costs: Costs, cutoffs: Any) -> dict[str, np.ndarray]:
    """Expected cost per applicant and approval rate at each cut-off (``points >=
    cut-off`` approved), from one sort of the scores.

    Returns ``{"cutoff", "approval_rate", "expected_cost"}`` arrays over ``cutoffs``.
    """
    bad, pts = _checked(y, points, "points")
    pts = pts.astype(np.float64)
    cut = np.asarray(cutoffs, dtype=np.float64)
    bad_sorted, good_sorted = np.sort(pts[bad]), np.sort(pts[~bad])
    bad_approved = bad_sorted.size - np.searchsorted(bad_sorted, cut, side="left")
    good_rejected = np.searchsorted(good_sorted, cut, side="left")
    n = pts.size
    return {"cutoff": cut,
            "approval_rate": (bad_approved + good_sorted.size - good_rejected) / n,
            "expected_cost": (costs.false_accept * bad_approved
                              + costs.false_reject * good_rejected) / n}


def candidate_cutoffs(points: np.ndarray) -> np.ndarray:
    """Every distinct decision a score allows: approve all, each midpoint between two
    adjacent distinct scores, and reject all (just above the highest score)."""
    u = np.unique(np.asarray(points, dtype=np.float64))
    return np.concatenate([u[:1], (u[1:] + u[:-1]) / 2.0, [np.nextafter(u[-1], np.inf)]])


def min_cost_cutoff(y: Any, points: Any, costs: Costs) -> float:
    """The cut-off with the lowest expected cost on these citizens; among equally cheap
    cut-offs, the lowest (the one that approves the most)."""
    _, pts = _checked(y, points, "points")
    candidates = candidate_cutoffs(pts)
    curve = cost_curve(y, pts, costs, candidates)
    return float(candidates[int(np.argmin(curve["expected_cost"]))])


def training_fold_cutoffs(train_points: Sequence[np.ndarray], train_y: Sequence[np.ndarray],
                          costs: Costs) -> list[float]:
    """The cost-minimising cut-off of each fold, chosen on that fold's training citizens
    only (their scores by the fold's own model and their labels): the held-out citizens
    it will judge play no part in choosing it."""
    return [min_cost_cutoff(y, p, costs) for p, y in zip(train_points, train_y, strict=True)]
