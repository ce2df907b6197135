"""Group metrics from counts: one vectorised, mergeable kernel for the fairness audit.

Every group metric of :mod:`scorelab.fairness.groups` is a function of a few weighted
counts per group, so the audit never groups citizens itself: it adds up

* ``cells``: citizens per group x decision (approved, rejected) x outcome code,
* ``p_sum`` / ``points_sum``: the group's summed P(default) and points,
* ``hist``: citizens per group x P(default) bin x outcome code (the group's ROC curve),

once for the point estimate (weight 1 for everyone) and once per bootstrap replicate
(the citizen's Poisson(1) draw count). The weights are a pure function of
``(seed, citizen_id, replicate)`` (a counter-based hash, :func:`bootstrap_weights`), so a
citizen gets the same weights in whatever chunk or partition it is counted.

Merging is exact: counts are integers, and the two sums are kept in fixed point
(P(default) in units of 2**-24, points in units of 2**-8; every total stays an integer
below 2**53, so float64 adds them exactly and in any order). ``a + b`` of the counts
of two disjoint chunks equals the counts of their union, bit for bit. Rounding the sums
moves a group mean by at most 2**-25 (P) and 2**-9 points.

To count a partition elsewhere (Dask), call :func:`count_groups` on it with the same
``edges`` (from :func:`score_edges` of the whole P(default), or of a sample), the same
``n_groups`` / group codes, ``n_boot`` and ``seed``, and add the results.

AUC binning: the group AUC is read from the histogram, pairs in the same bin counting
one half. With at most ``max_bins`` distinct P(default) values the bins are those values
and the AUC is exact; otherwise bins hold equal shares of citizens and the AUC is off
by at most half the share of (defaulter, non-defaulter) pairs sharing a bin, returned
by :func:`auc_binning_bound` (about 1 / (2 * max_bins) for a group spread over the
whole range; typically below 0.001).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.stats import poisson

from scorelab.core.numeric import auc_from_counts

__all__ = ["GroupCounts", "auc_binning_bound", "bootstrap_weights", "by_outcome", "count_groups",
           "group_rates", "score_edges"]

#: Fixed-point units of the summed P(default) and points (see the module docstring).
P_UNIT = 2.0 ** -24
POINTS_UNIT = 2.0 ** -8
#: Bins of the P(default) histogram behind the group AUC (see auc_binning_bound).
MAX_BINS = 512
#: Citizens counted per block: bounds the (citizens x replicates) weight block in memory.
CHUNK = 16_384

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
# Poisson(1) inverse CDF: a uniform u draws k = #{cdf <= u}; k > 30 has mass < 1e-33.
_POISSON_CDF = poisson.cdf(np.arange(31), 1.0)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective, well-mixing hash of uint64 words."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def bootstrap_weights(citizen_ids: Any, n_boot: int, seed: int) -> np.ndarray:
    """``(n, 1 + n_boot)`` uint8 weights: column 0 is all ones (the point estimate),
    column ``b`` is citizen ``i``'s Poisson(1) draw count in replicate ``b``.

    Each count is a hash of ``(seed, citizen_id, b)``: the same citizen gets the same
    weights in any order, chunk or partition (the Poisson bootstrap of Hanley and
    MacGibbon 2006, which needs no global resampling step).
    """
    ids = np.asarray(citizen_ids).astype(np.uint64)
    out = np.empty((ids.size, 1 + int(n_boot)), dtype=np.uint8)
    out[:, 0] = 1
    if n_boot <= 0:
        return out
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        key = _splitmix(np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64) + _GOLDEN)
        reps = np.arange(1, n_boot + 1, dtype=np.uint64) * _GOLDEN
        for start in range(0, ids.size, CHUNK):
            cid = _splitmix(ids[start:start + CHUNK] ^ key)
            h = _splitmix(cid[:, None] + reps[None, :])
            u = (h >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
            out[start:start + CHUNK, 1:] = np.searchsorted(_POISSON_CDF, u, side="right")
    return out


def score_edges(p: Any, max_bins: int = MAX_BINS) -> np.ndarray:
    """Inner bin edges of the P(default) histogram (``searchsorted(..., side="right")``).

    At most ``max_bins`` distinct values: one bin per value (the AUC is exact). Up to
    four times as many: edges at quantiles of the distinct values (a few values per
    bin, however the citizens crowd on them). Otherwise equal-frequency edges (ties
    never split), so few pairs share a bin.
    """
    values = np.unique(np.asarray(p, dtype=np.float64))
    if values.size <= max_bins:
        return values[1:]
    quantiles = np.quantile(values if values.size < 4 * max_bins else np.asarray(p),
                            np.linspace(0, 1, max_bins + 1)[1:-1])
    return np.unique(quantiles)


@dataclass
class GroupCounts:
    """Weighted counts of one model's decisions, mergeable with ``+``.

    ``totals`` is a ``(columns, 1 + n_boot)`` float64 array of integer values; the
    layout of the columns is given by ``n_groups``, ``n_outcomes`` (outcome codes:
    bit ``j`` is outcome ``j``'s label) and ``edges``. Read it with the properties.
    """

    totals: np.ndarray
    n_groups: int
    n_outcomes: int
    edges: np.ndarray = field(repr=False)

    @property
    def n_codes(self) -> int:
        return 2 ** self.n_outcomes

    @property
    def n_bins(self) -> int:
        return self.edges.size + 1

    def _block(self, which: str) -> slice:
        g, c = self.n_groups, self.n_codes
        sizes = {"cells": g * 2 * c, "p_sum": g, "points_sum": g, "hist": g * self.n_bins * c}
        start = 0
        for name, size in sizes.items():
            if name == which:
                return slice(start, start + size)
            start += size
        raise KeyError(which)

    @property
    def cells(self) -> np.ndarray:
        """``(replicates, groups, decision [approved, rejected], outcome code)``."""
        return self.totals[self._block("cells")].T.reshape(-1, self.n_groups, 2, self.n_codes)

    @property
    def p_sum(self) -> np.ndarray:
        """``(replicates, groups)`` summed P(default)."""
        return self.totals[self._block("p_sum")].T * P_UNIT

    @property
    def points_sum(self) -> np.ndarray:
        """``(replicates, groups)`` summed points."""
        return self.totals[self._block("points_sum")].T * POINTS_UNIT

    @property
    def hist(self) -> np.ndarray:
        """``(replicates, groups, bins, outcome code)`` citizens per P(default) bin."""
        return self.totals[self._block("hist")].T.reshape(
            -1, self.n_groups, self.n_bins, self.n_codes)

    def __add__(self, other: GroupCounts) -> GroupCounts:
        if (self.totals.shape != other.totals.shape or self.n_groups != other.n_groups
                or self.n_outcomes != other.n_outcomes
                or not np.array_equal(self.edges, other.edges)):
            raise ValueError("GroupCounts can only be merged with counts of the same "
                             "groups, outcomes, replicates and bin edges.")
        return GroupCounts(self.totals + other.totals, self.n_groups, self.n_outcomes,
                           self.edges)


def _design(groups: np.ndarray, n_groups: int, code: np.ndarray, rejected: np.ndarray,
            p_fixed: np.ndarray, points_fixed: np.ndarray, bins: np.ndarray, n_bins: int,
            n_codes: int) -> sparse.csr_matrix:
    """``(citizens, columns)`` sparse matrix: what each citizen adds to every column.

    Built row by row (citizen-major, four entries per citizen and attribute), so no
    sorting is needed: linear in the citizens.
    """
    n, n_attr = groups.shape
    offsets = np.cumsum([0, n_groups * 2 * n_codes, n_groups, n_groups])
    g = groups.ravel()  # citizen-major: (citizen, attribute)
    keep = g >= 0
    cit = np.repeat(np.arange(n), n_attr)[keep]
    g = g[keep]
    c = code[cit]
    cols = np.column_stack([
        (g * 2 + rejected[cit]) * n_codes + c,
        offsets[1] + g,
        offsets[2] + g,
        offsets[3] + (g * n_bins + bins[cit]) * n_codes + c]).ravel()
    data = np.column_stack([np.ones(g.size), p_fixed[cit], points_fixed[cit],
                            np.ones(g.size)]).ravel()
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(4 * np.bincount(cit, minlength=n), out=indptr[1:])
    n_cols = int(offsets[3] + n_groups * n_bins * n_codes)
    return sparse.csr_matrix((data, cols, indptr), shape=(n, n_cols))


def count_groups(groups: Any, n_groups: int, outcomes: list[Any], approved: Any, p: Any,
                 points: Any, weights: np.ndarray, edges: np.ndarray) -> GroupCounts:
    """The counts of one model's decisions over the citizens given (a chunk is fine).

    Parameters
    ----------
    groups : ``(n,)`` or ``(n, attributes)`` int group codes in ``[0, n_groups)``; a
        citizen is counted once per column; -1 = in no group of that column.
    outcomes : 0/1 label arrays (e.g. observed, true); outcome ``j`` is bit ``j``.
    approved, p, points : the model's decisions, P(default) and points.
    weights : ``(n, 1 + n_boot)`` from :func:`bootstrap_weights` for these citizens.
    edges : inner P(default) bin edges from :func:`score_edges` (the same for every
        chunk that is to be merged).
    """
    g = np.asarray(groups, dtype=np.int64)
    g = g[:, None] if g.ndim == 1 else g
    code = np.zeros(g.shape[0], dtype=np.int64)
    for j, y in enumerate(outcomes):
        code |= np.asarray(y, dtype=np.int64) << j
    n_codes = 2 ** len(outcomes)
    rejected = 1 - np.asarray(approved, dtype=np.int64)
    pv = np.asarray(p, dtype=np.float64)
    p_fixed = np.rint(pv / P_UNIT)
    points_fixed = np.rint(np.asarray(points, dtype=np.float64) / POINTS_UNIT)
    bins = np.searchsorted(edges, pv, side="right")
    n_bins = edges.size + 1
    totals = None
    for start in range(0, g.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        S = _design(g[part], n_groups, code[part], rejected[part], p_fixed[part],
                    points_fixed[part], bins[part], n_bins, n_codes)
        block = S.T @ np.ascontiguousarray(weights[part], dtype=np.float64)
        if totals is None:
            totals = block
        else:
            totals += block  # integer-valued: exact in any order
    if totals is None:
        totals = _design(g, n_groups, code, rejected, p_fixed, points_fixed, bins, n_bins,
                         n_codes).T @ np.zeros((0, weights.shape[1]))
    return GroupCounts(totals, int(n_groups), len(outcomes), np.asarray(edges))


def by_outcome(x: np.ndarray, j: int, n_outcomes: int) -> tuple[np.ndarray, np.ndarray]:
    """(label 1, label 0) parts of an array whose last axis is the outcome code."""
    bits = x.reshape(*x.shape[:-1], *[2] * n_outcomes)  # code -> one axis per outcome bit
    label_axis = x.ndim - 1 + (n_outcomes - 1 - j)  # the last axis holds bit 0
    others = tuple(x.ndim - 1 + k for k in range(n_outcomes) if k != n_outcomes - 1 - j)
    split = bits.sum(axis=others) if others else bits
    split = np.moveaxis(split, label_axis - sum(a < label_axis for a in others), -1)
    return split[..., 1], split[..., 0]


def group_rates(counts: GroupCounts, outcome: int = 0) -> dict[str, np.ndarray]:
    """Every group metric (``groups.METRICS``) against outcome ``outcome`` as
    ``(replicates, groups)`` arrays; row 0 is the point estimate. Undefined is NaN."""
    cells = counts.cells
    pos, neg = by_outcome(cells, outcome, counts.n_outcomes)  # (R, G, decision)
    n_pos, n_neg = pos.sum(axis=-1), neg.sum(axis=-1)
    n = n_pos + n_neg
    hp, hn = by_outcome(counts.hist, outcome, counts.n_outcomes)  # (R, G, bins)
    R, G, K = hp.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = pos[..., 1] / n_pos
        mean_p = counts.p_sum / n
        rate = n_pos / n
        auc = auc_from_counts(hp.reshape(R * G, K), hn.reshape(R * G, K)).reshape(R, G)
        return {"approval_rate": (pos[..., 0] + neg[..., 0]) / n, "tpr": tpr,
                "fpr": neg[..., 1] / n_neg, "fnr": pos[..., 0] / n_pos, "auc": auc,
                "mean_p": mean_p, "default_rate": rate, "calibration_gap": mean_p - rate,
                "mean_score": counts.points_sum / n}


def auc_binning_bound(counts: GroupCounts, outcome: int = 0) -> np.ndarray:
    """Per group: the largest possible |binned AUC - exact AUC| of the point estimate
    (half the share of defaulter / non-defaulter pairs that share a P(default) bin)."""
    hp, hn = by_outcome(counts.hist[0], outcome, counts.n_outcomes)  # (G, bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * (hp * hn).sum(axis=1) / (hp.sum(axis=1) * hn.sum(axis=1))
