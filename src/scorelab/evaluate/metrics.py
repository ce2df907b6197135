"""Accuracy, calibration and decision metrics of a probability-of-default forecast.

Conventions: ``y`` holds 0/1 labels with 1 = default, ``p`` the predicted probability
of default (a higher ``p`` means riskier). Everything is pure numpy/scipy and
vectorised: there is no Python loop over citizens or bootstrap replicates.

All ranking metrics are computed from one sort of ``p``: citizens are grouped by
distinct value of ``p`` (so ties are handled exactly) and each metric is a function of
the per-group (weighted) counts of defaulters ``P_k`` and non-defaulters ``N_k``.
Bootstrap replicates are the same computation with per-citizen weights equal to the
number of times a citizen was drawn, done for a block of replicates at once on
``(replicates, groups)`` matrices. The H-measure needs the convex hull of the ROC
curve; it is found for all replicates at once by repeatedly deleting the points that
lie on or above the chord of their neighbours (each round is one vectorised pass; a
chain that is locally convex everywhere is the hull).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betainc

from scorelab.core.numeric import auc_from_counts
from scorelab.exceptions import DataError

__all__ = [
    "BOOTSTRAP_MAX_GROUPS",
    "ECE_BINNING",
    "approval_metrics",
    "auc",
    "bootstrap_intervals",
    "brier",
    "expected_calibration_error",
    "gini",
    "h_measure",
    "ks",
    "log_loss",
    "metric_table",
    "partial_gini",
]

#: How :func:`expected_calibration_error` bins citizens: equal-frequency bins on the
#: sorted predictions (tied predictions are never split across bins).
ECE_BINNING = "equal-frequency"

#: Predictions are clipped to [LOG_LOSS_EPS, 1 - LOG_LOSS_EPS] in :func:`log_loss`
#: (machine epsilon, as scikit-learn does).
LOG_LOSS_EPS = float(np.finfo(np.float64).eps)

#: Rank groups of a bootstrap replicate above which the replicates' rank metrics are
#: computed on equal-frequency runs of sorted citizens (see :func:`bootstrap_intervals`).
BOOTSTRAP_MAX_GROUPS = 10_000

# Bootstrap replicates are processed in blocks of about this many (replicate, citizen)
# cells, which bounds memory at a few tens of MB whatever n and n_boot are.
_BLOCK_CELLS = 2_000_000


# --------------------------------------------------------------------------- validation


def _as_labels(y: Any) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise DataError(f"y must be one-dimensional, got shape {arr.shape}.")
    if arr.size == 0:
        raise DataError("y is empty: at least one citizen is needed.")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"y must be numeric 0/1 labels, got dtype {arr.dtype}.")
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        raise DataError(
            f"y must contain only 0 (no default) and 1 (default); found {arr[bad][0]!r}."
        )
    return arr.astype(np.int8)


def _as_probabilities(p: Any, name: str = "p") -> np.ndarray:
    arr = np.asarray(p)
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{name} must be numeric probabilities, got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise DataError(f"{name} contains NaN or infinite values.")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise DataError(
            f"{name} must be probabilities in [0, 1]; found values in "
            f"[{arr.min():g}, {arr.max():g}]."
        )
    return arr


def _check(y: Any, p: Any, *, both_classes: bool) -> tuple[np.ndarray, np.ndarray]:
    yy = _as_labels(y)
    pp = _as_probabilities(p)
    if yy.shape != pp.shape:
        raise DataError(f"Length mismatch: y has {yy.size} citizens, p has {pp.size}.")
    if both_classes:
        n_def = int(yy.sum())
        if n_def == 0 or n_def == yy.size:
            only = "defaulters" if n_def else "non-defaulters"
            raise DataError(
                f"This metric needs both defaulters and non-defaulters; y has only {only}."
            )
    return yy, pp


def _as_approved(approved: Any, n: int) -> np.ndarray:
    arr = np.asarray(approved)
    if arr.ndim != 1:
        raise DataError(f"approved must be one-dimensional, got shape {arr.shape}.")
    if arr.size != n:
        raise DataError(f"Length mismatch: y has {n} citizens, approved has {arr.size}.")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise DataError("approved must be a boolean (or 0/1) array.")
        arr = arr.astype(bool)
    return arr


# --------------------------------------------------------------------------- sorted layout


@dataclass(frozen=True)
class _Layout:
    """``p`` sorted once, with the groups of tied values and their calibration bins."""

    order: np.ndarray  # argsort of p (stable)
    y_sorted: np.ndarray  # float64
    starts: np.ndarray  # first sorted position of every distinct value of p
    values: np.ndarray  # the distinct values of p, ascending
    bin_starts: np.ndarray  # first group index of every non-empty ECE bin

    @property
    def n(self) -> int:
        return int(self.order.size)


def _layout(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> _Layout:
    order = np.argsort(p, kind="stable")
    ps = p[order]
    new = np.empty(ps.size, dtype=bool)
    new[0] = True
    np.not_equal(ps[1:], ps[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    # Equal-frequency bins: a group belongs to the bin of its first citizen's rank.
    group_bin = starts * n_bins // ps.size
    bin_new = np.empty(group_bin.size, dtype=bool)
    bin_new[0] = True
    np.not_equal(group_bin[1:], group_bin[:-1], out=bin_new[1:])
    return _Layout(order, y[order].astype(np.float64), starts, ps[starts],
                   np.flatnonzero(bin_new))


def _group_counts(lay: _Layout, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted counts of defaulters ``P`` and non-defaulters ``N`` per distinct ``p``.

    ``weights`` is ``(B, n)`` in the original citizen order, or None for unit weights
    (then ``B = 1``). Returns two ``(B, K)`` float arrays in ascending order of ``p``.
    """
    if weights is None:
        w = np.ones((1, lay.n))
    else:
        w = weights[:, lay.order].astype(np.float64)
    total = np.add.reduceat(w, lay.starts, axis=1)
    pos = np.add.reduceat(w * lay.y_sorted, lay.starts, axis=1)
    return pos, total - pos


# --------------------------------------------------------------------------- kernels
# Every kernel takes (B, K) group counts and returns a length-B array.


def _k_ks(P: np.ndarray, N: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.cumsum(P, axis=1) / P.sum(axis=1, keepdims=True)
        f0 = np.cumsum(N, axis=1) / N.sum(axis=1, keepdims=True)
        return np.abs(f0 - f1).max(axis=1)


def _k_partial_gini(P: np.ndarray, N: np.ndarray, max_fpr: float) -> np.ndarray:
    B = P.shape[0]
    zero = np.zeros((B, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        # ROC from the riskiest group down: flag everyone with p >= threshold.
        fpr = np.hstack([zero, np.cumsum(N[:, ::-1], axis=1) / N.sum(axis=1, keepdims=True)])
        tpr = np.hstack([zero, np.cumsum(P[:, ::-1], axis=1) / P.sum(axis=1, keepdims=True)])
        f0, f1, t0, t1 = fpr[:, :-1], fpr[:, 1:], tpr[:, :-1], tpr[:, 1:]
        f1c = np.minimum(f1, max_fpr)
        width = np.clip(f1c - f0, 0.0, None)
        dx = f1 - f0
        tc = np.where(dx > 0, t0 + (t1 - t0) * (f1c - f0) / np.where(dx > 0, dx, 1.0), t0)
        area = (width * (t0 + tc) / 2.0).sum(axis=1)
        lo, hi = max_fpr**2 / 2.0, max_fpr
        return (area - lo) / (hi - lo)


def _k_brier(P: np.ndarray, N: np.ndarray, values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (P @ (1.0 - values) ** 2 + N @ values**2) / (P.sum(axis=1) + N.sum(axis=1))


def _k_log_loss(P: np.ndarray, N: np.ndarray, values: np.ndarray) -> np.ndarray:
    v = np.clip(values, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(P @ np.log(v) + N @ np.log1p(-v)) / (P.sum(axis=1) + N.sum(axis=1))


def _k_ece(P: np.ndarray, N: np.ndarray, values: np.ndarray, bin_starts: np.ndarray
           ) -> np.ndarray:
    W = P + N
    observed = np.add.reduceat(P, bin_starts, axis=1)
    predicted = np.add.reduceat(W * values, bin_starts, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(observed - predicted).sum(axis=1) / W.sum(axis=1)


def _lower_hull(P: np.ndarray, N: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of the lower convex hull of every replicate's chain (cum N, cum P).

    Returns flat arrays ``(rep, x, y)`` sorted by replicate then x. The chain starts at
    (0, 0) and ends at (N_total, P_total); its lower hull is the ROC convex hull seen
    from the loss side (minimising c*(N - x) + (1 - c)*y over the chain).

    Each round deletes, in all replicates at once, every point on or above the chord
    of its two neighbours. Such a point is never a strict hull vertex (points are
    distinct), so the hull is kept; when no point is deleted the chain is locally,
    hence globally, convex. Rounds are few in practice (about 13 for 100,000
    distinct scores) and act on ever fewer points.
    """
    B, K = P.shape
    x = np.hstack([np.zeros((B, 1)), np.cumsum(N, axis=1)]).ravel()
    y = np.hstack([np.zeros((B, 1)), np.cumsum(P, axis=1)]).ravel()
    rep = np.repeat(np.arange(B), K + 1)
    # Groups of zero weight (not drawn in a replicate) repeat the previous point.
    # Drop them first: the removal rule below is valid only for distinct points
    # (a point and its duplicate would each lie "on the chord" through the other).
    drawn = np.hstack([np.ones((B, 1), dtype=bool), (P + N) > 0]).ravel()
    rep, x, y = rep[drawn], x[drawn], y[drawn]
    while True:
        # Interior points: neighbours on both sides belong to the same replicate.
        same = rep[1:] == rep[:-1]
        interior = np.zeros(rep.size, dtype=bool)
        interior[1:-1] = same[:-1] & same[1:]
        ax, ay = x[:-2], y[:-2]
        cross = (x[2:] - ax) * (y[1:-1] - ay) - (y[2:] - ay) * (x[1:-1] - ax)
        drop = np.zeros(rep.size, dtype=bool)
        drop[1:-1] = cross >= 0.0  # on or above the chord of its neighbours
        drop &= interior
        if not drop.any():
            return rep, x, y
        keep = ~drop
        rep, x, y = rep[keep], x[keep], y[keep]


def _k_h_measure(P: np.ndarray, N: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    B = P.shape[0]
    tot_p, tot_n = P.sum(axis=1), N.sum(axis=1)
    total = tot_p + tot_n
    rep, x, y = _lower_hull(P, N)
    # Cost threshold at which the optimum moves along each hull edge to the next vertex.
    same = rep[1:] == rep[:-1]
    dx, dy = np.diff(x), np.diff(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        edge_c = np.where(same, dy / (dx + dy), np.nan)
    lo = np.empty(rep.size)
    hi = np.empty(rep.size)
    lo[0], hi[-1] = 0.0, 1.0
    lo[1:] = np.where(same, edge_c, 0.0)
    hi[:-1] = np.where(same, edge_c, 1.0)
    a_frac, b_frac = alpha / (alpha + beta), beta / (alpha + beta)
    # Integral over [lo, hi] of [c*(N - x) + (1 - c)*y] * Beta(c; alpha, beta) dc.
    mass_c = betainc(alpha + 1, beta, hi) - betainc(alpha + 1, beta, lo)
    mass_1mc = betainc(alpha, beta + 1, hi) - betainc(alpha, beta + 1, lo)
    part = (tot_n[rep] - x) * a_frac * mass_c + y * b_frac * mass_1mc
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.bincount(rep, weights=part, minlength=B) / total
        pi1 = tot_p / total
        pi0 = 1.0 - pi1
        loss_max = (pi0 * a_frac * betainc(alpha + 1, beta, pi1)
                    + pi1 * b_frac * (1.0 - betainc(alpha, beta + 1, pi1)))
        h = 1.0 - loss / loss_max
    h[(tot_p == 0) | (tot_n == 0)] = np.nan
    return h


def _rank_kernels(P: np.ndarray, N: np.ndarray, *, alpha: float, beta: float,
                  max_fpr: float) -> dict[str, np.ndarray]:
    """The metrics that depend on the order of ``p`` only."""
    a = auc_from_counts(P, N)
    return {
        "auc": a,
        "gini": 2.0 * a - 1.0,
        "ks": _k_ks(P, N),
        "partial_gini": _k_partial_gini(P, N, max_fpr),
        "h_measure": _k_h_measure(P, N, alpha, beta),
    }


def _all_kernels(P: np.ndarray, N: np.ndarray, lay: _Layout, *, alpha: float, beta: float,
                 max_fpr: float) -> dict[str, np.ndarray]:
    return {
        **_rank_kernels(P, N, alpha=alpha, beta=beta, max_fpr=max_fpr),
        "brier": _k_brier(P, N, lay.values),
        "log_loss": _k_log_loss(P, N, lay.values),
        "ece": _k_ece(P, N, lay.values, lay.bin_starts),
    }


@dataclass(frozen=True)
class _Coarse:
    """Rank groups of a large sample for the bootstrap replicates (see
    :func:`bootstrap_intervals`): about ``max_groups`` runs of consecutive sorted
    citizens, never splitting tied predictions; per sorted citizen, the terms of the
    metrics that are sums over citizens (computed exactly, not per group)."""

    starts: np.ndarray  # first sorted position of every rank group
    positives: np.ndarray  # sorted positions of the defaulters
    positive_starts: np.ndarray  # first defaulter (index into positives) of every group
    ece_bounds: list[tuple[int, int]]  # sorted positions of every ECE bin
    ece_positive_starts: np.ndarray  # first defaulter (index into positives) of every bin
    p_sorted: np.ndarray
    # (y - p)^2, -log(p or 1 - p) (clipped as in log_loss), then _approval_columns
    sums: np.ndarray


def _coarse(lay: _Layout, max_groups: int, approved: np.ndarray | None) -> _Coarse:
    n = lay.n
    targets = np.arange(max_groups, dtype=np.int64) * n // max_groups
    group = np.searchsorted(lay.starts, targets, side="right") - 1
    starts = np.unique(lay.starts[group])
    ps = lay.values[np.searchsorted(lay.starts, np.arange(n), side="right") - 1]
    y = lay.y_sorted
    pc = np.clip(ps, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    terms = [(y - ps) ** 2, -np.where(y == 1.0, np.log(pc), np.log1p(-pc))]
    if approved is not None:
        terms += list(_approval_columns(y, approved[lay.order]).T)
    positives = np.flatnonzero(y == 1.0)
    ece = np.append(lay.starts[lay.bin_starts], n)
    return _Coarse(starts, positives, np.searchsorted(positives, starts),
                   list(zip(ece[:-1], ece[1:], strict=True)),
                   np.searchsorted(positives, ece[:-1]), ps, np.column_stack(terms))


def _coarse_kernels(counts: np.ndarray, lay: _Layout, coarse: _Coarse, *, alpha: float,
                    beta: float, max_fpr: float) -> dict[str, np.ndarray]:
    """:func:`_all_kernels` (and the approval figures) of a block of replicates on the
    rank groups of ``coarse``: the rank metrics treat a group as tied; Brier, log loss,
    ECE and the approval figures stay exact. Few passes over the (replicates, citizens)
    block: one gather, one sum per group, one matrix product, a running sum of the
    defaulters."""
    w = counts[:, lay.order].astype(np.float64)
    total = np.add.reduceat(w, coarse.starts, axis=1)
    # defaulters drawn per group and per ECE bin, from their running sum (exact: whole
    # numbers); a group may hold no defaulter
    drawn = np.zeros((w.shape[0], coarse.positives.size + 1))
    np.cumsum(w[:, coarse.positives], axis=1, out=drawn[:, 1:])
    P = np.diff(drawn[:, np.append(coarse.positive_starts, coarse.positives.size)], axis=1)
    observed = np.diff(drawn[:, np.append(coarse.ece_positive_starts,
                                          coarse.positives.size)], axis=1)
    sums = w @ coarse.sums
    size = total.sum(axis=1)
    predicted = np.column_stack([w[:, a:b] @ coarse.p_sorted[a:b]
                                 for a, b in coarse.ece_bounds])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            **_rank_kernels(P, total - P, alpha=alpha, beta=beta, max_fpr=max_fpr),
            "brier": sums[:, 0] / size,
            "log_loss": sums[:, 1] / size,
            "ece": np.abs(observed - predicted).sum(axis=1) / size,
        }
    if sums.shape[1] > 2:
        out.update(_approval_rates(sums[:, 2:]))
    return out


def _approval_columns(y: np.ndarray, approved: np.ndarray) -> np.ndarray:
    """Per citizen: 1, approved, approved defaulter, defaulter (the approval sums)."""
    a = approved.astype(np.float64)
    return np.column_stack([np.ones_like(a), a, a * y, y])


def _k_approval(y: np.ndarray, approved: np.ndarray) -> dict[str, np.ndarray]:
    """The approval figures of every citizen counted once (the point estimate)."""
    return _approval_rates(_approval_columns(y, approved).sum(axis=0, keepdims=True))


def _approval_rates(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Approval figures from ``(B, 4)`` weighted sums of :func:`_approval_columns`."""
    total, n_app, def_app, def_all = sums.T.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "approval_rate": n_app / total,
            "default_rate_approved": def_app / n_app,
            "default_rate_rejected": (def_all - def_app) / (total - n_app),
        }


@functools.lru_cache(maxsize=1)
def _draw_counts(n: int, n_boot: int, seed: int) -> tuple[np.ndarray, ...]:
    """How often each citizen is drawn in each replicate, in blocks of replicates.

    Cached (the last call only): every model of a study is bootstrapped on the same
    citizens with the same seed, so the draws are made once, not once per model (the
    numbers are those of drawing them anew). Kept as uint8 (a citizen drawn 256 times
    in one replicate has a probability far below 1e-300).
    """
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // n)
    out = []
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        idx += (np.arange(b) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)
        out.append(counts.astype(np.uint8) if counts.max() < 256 else counts)
    return tuple(out)


# --------------------------------------------------------------------------- public API


def auc(y: Any, p: Any) -> float:
    """Area under the ROC curve: P(a defaulter gets a higher p than a non-defaulter).

    Ties count one half, so this equals ``sklearn.metrics.roc_auc_score``.
    """
    yy, pp = _check(y, p, both_classes=True)
    return float(auc_from_counts(*_group_counts(_layout(yy, pp), None))[0])


def gini(y: Any, p: Any) -> float:
    """Gini coefficient (accuracy ratio) ``2 * AUC - 1``, the credit-scoring habit."""
    return 2.0 * auc(y, p) - 1.0


def ks(y: Any, p: Any) -> float:
    """Kolmogorov-Smirnov statistic: the largest distance between the CDFs of ``p``
    among defaulters and among non-defaulters (over every threshold)."""
    yy, pp = _check(y, p, both_classes=True)
    return float(_k_ks(*_group_counts(_layout(yy, pp), None))[0])


def partial_gini(y: Any, p: Any, max_fpr: float = 0.4) -> float:
    """Gini restricted to the riskiest part of the ROC curve, where cut-offs are set.

    Definition: the area under the ROC curve (false-positive rate = share of
    non-defaulters rejected, true-positive rate = share of defaulters rejected) for
    false-positive rates in ``[0, max_fpr]``, McClish-standardised so that a random
    score gives 0 and a perfect one 1: ``(pAUC - max_fpr**2/2) / (max_fpr -
    max_fpr**2/2)``. It equals ``2 * roc_auc_score(y, p, max_fpr=max_fpr) - 1`` of
    scikit-learn. Rejecting more than ``max_fpr`` of the good payers is rarely a
    realistic policy, so this ignores the part of the curve no lender would use.
    """
    if not 0.0 < max_fpr <= 1.0:
        raise DataError(f"max_fpr must be in (0, 1], got {max_fpr}.")
    yy, pp = _check(y, p, both_classes=True)
    return float(_k_partial_gini(*_group_counts(_layout(yy, pp), None), max_fpr)[0])


def brier(y: Any, p: Any) -> float:
    """Brier score: mean squared error of ``p`` against the 0/1 outcome (lower is better)."""
    yy, pp = _check(y, p, both_classes=False)
    return float(np.mean((yy - pp) ** 2))


def log_loss(y: Any, p: Any) -> float:
    """Mean negative log-likelihood (cross-entropy), ``p`` clipped to
    ``[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]`` so that a confident mistake costs a finite
    amount (lower is better)."""
    yy, pp = _check(y, p, both_classes=False)
    pc = np.clip(pp, LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS)
    return float(-np.mean(np.where(yy == 1, np.log(pc), np.log1p(-pc))))


def expected_calibration_error(y: Any, p: Any, n_bins: int = 10) -> float:
    """Expected calibration error: how far predicted and observed default rates differ.

    Citizens are sorted by ``p`` and cut into ``n_bins`` equal-frequency bins (tied
    predictions stay in one bin, so bins may differ slightly in size); the ECE is the
    bin-size-weighted mean of ``|observed default rate - mean p|`` over the bins.
    Equal-frequency bins keep every bin populated even when, as in credit scoring,
    most predictions crowd near zero.
    """
    if int(n_bins) != n_bins or n_bins < 1:
        raise DataError(f"n_bins must be a positive integer, got {n_bins!r}.")
    yy, pp = _check(y, p, both_classes=False)
    lay = _layout(yy, pp, int(n_bins))
    P, N = _group_counts(lay, None)
    return float(_k_ece(P, N, lay.values, lay.bin_starts)[0])


def h_measure(y: Any, p: Any, alpha: float = 2.0, beta: float = 2.0) -> float:
    """Hand's (2009) H-measure: the share of the maximal misclassification loss saved.

    The cost ``c`` of misclassifying a non-defaulter (``1 - c`` for a defaulter) is
    drawn from a Beta(alpha, beta) prior, the same for every classifier (unlike AUC,
    whose implied cost distribution depends on the classifier). For each ``c`` the
    best threshold is used, which amounts to the convex hull of the ROC curve; the
    expected minimal loss ``L`` is computed exactly (incomplete beta functions
    between the hull's slopes) and compared with ``L_max``, the loss of the best
    trivial rule (accept all or reject all): ``H = 1 - L / L_max``. 1 = perfect
    separation, about 0 = no information.
    """
    if not (alpha > 0 and beta > 0):
        raise DataError(f"alpha and beta must be positive, got {alpha}, {beta}.")
    yy, pp = _check(y, p, both_classes=True)
    P, N = _group_counts(_layout(yy, pp), None)
    return float(_k_h_measure(P, N, float(alpha), float(beta))[0])


def approval_metrics(y: Any, approved: Any) -> dict[str, float]:
    """What an accept/reject decision does: the approval rate, and the default rates
    among the approved and the rejected (NaN when a side is empty)."""
    yy = _as_labels(y)
    app = _as_approved(approved, yy.size)
    return {k: float(v[0]) for k, v in _k_approval(yy.astype(np.float64), app).items()}


def metric_table(y: Any, p: Any, approved: Any = None, *, n_bins: int = 10,
                 alpha: float = 2.0, beta: float = 2.0, max_fpr: float = 0.4
                 ) -> dict[str, float]:
    """Every metric of this module for one forecast, as ``{name: value}``.

    Keys: auc, gini, ks, partial_gini, h_measure, brier, log_loss, ece and, when
    ``approved`` is given, approval_rate, default_rate_approved, default_rate_rejected.
    """
    yy, pp = _check(y, p, both_classes=True)
    lay = _layout(yy, pp, n_bins)
    P, N = _group_counts(lay, None)
    out = {k: float(v[0]) for k, v in
           _all_kernels(P, N, lay, alpha=alpha, beta=beta, max_fpr=max_fpr).items()}
    if approved is not None:
        app = _as_approved(approved, yy.size)
        out.update({k: float(v[0]) for k, v in
                    _k_approval(yy.astype(np.float64), app).items()})
    return out


def bootstrap_intervals(y: Any, p: Any, approved: Any = None, n_boot: int = 200,
                        confidence: float = 0.95, seed: int = 0, *, n_bins: int = 10,
                        alpha: float = 2.0, beta: float = 2.0, max_fpr: float = 0.4,
                        max_groups: int | None = BOOTSTRAP_MAX_GROUPS
                        ) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap confidence intervals of every :func:`metric_table` metric.

    Citizens are resampled with replacement ``n_boot`` times; each replicate is a
    vector of draw counts (``np.bincount`` of offset indices), and the metrics are
    computed as weighted metrics for a block of replicates at once. The ECE keeps the
    bins of the full sample. Replicates in which a metric is undefined (for instance
    no defaulter drawn) are left out of that metric's interval. The same ``seed``
    gives identical intervals.

    Large samples: when ``p`` has more than ``max_groups`` distinct values, the
    replicates' rank metrics (AUC, Gini, KS, partial Gini, H-measure) are computed on
    ``max_groups`` equal-frequency runs of the sorted citizens (tied values never
    split), each run counted as one tied group, so a replicate costs the same at 1
    million citizens as at 10,000 after its draw. The binning error of a replicate's
    AUC is at most ``sum_g P_g N_g / (2 P N)`` (pairs of a defaulter and a
    non-defaulter in the same run counted one half), which for runs of ``n /
    max_groups`` citizens and a default rate ``pi`` is at most ``1 / (8 max_groups pi
    (1 - pi))``: 7.8e-5 at 10,000 runs and a 20% default rate; the Gini's is twice
    that. Brier, log loss, ECE and the approval figures stay exact. ``max_groups=None``
    keeps every distinct value.
    """
    if int(n_boot) != n_boot or n_boot < 2:
        raise DataError(f"n_boot must be an integer >= 2, got {n_boot!r}.")
    if not 0.0 < confidence < 1.0:
        raise DataError(f"confidence must be in (0, 1), got {confidence}.")
    if max_groups is not None and (int(max_groups) != max_groups or max_groups < 2):
        raise DataError(f"max_groups must be an integer >= 2 or None, got {max_groups!r}.")
    yy, pp = _check(y, p, both_classes=True)
    app = None if approved is None else _as_approved(approved, yy.size)
    n, n_boot = yy.size, int(n_boot)
    lay = _layout(yy, pp, n_bins)
    coarse = (_coarse(lay, int(max_groups), app)
              if max_groups is not None and lay.starts.size > max_groups else None)
    cols = None if app is None else _approval_columns(yy.astype(np.float64), app)
    chunks: list[dict[str, np.ndarray]] = []
    for counts in _draw_counts(n, n_boot, seed):
        if coarse is not None:
            res = _coarse_kernels(counts, lay, coarse, alpha=alpha, beta=beta,
                                  max_fpr=max_fpr)
        else:
            P, N = _group_counts(lay, counts)
            res = _all_kernels(P, N, lay, alpha=alpha, beta=beta, max_fpr=max_fpr)
            if cols is not None:
                res.update(_approval_rates(counts @ cols))
        chunks.append(res)
    tail = (1.0 - confidence) / 2.0
    out: dict[str, tuple[float, float]] = {}
    for key in chunks[0]:
        vals = np.concatenate([c[key] for c in chunks])
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            out[key] = (float("nan"), float("nan"))
        else:
            low, high = np.quantile(vals, [tail, 1.0 - tail])
            out[key] = (float(low), float(high))
    return out

