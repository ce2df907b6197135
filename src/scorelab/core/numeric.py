"""Numeric primitives, one home each: log-odds and back, and the area under the ROC curve.

Every layer that turns a probability into log-odds does it through :func:`logit`, with
the one clipping constant :data:`P_EPS`, so that a probability of exactly 0 or 1 (a
rule that never fires, a group without defaulters) gives a large finite log-odds
everywhere, and the same one.

The AUC is computed one way, from counts of defaulters and non-defaulters per distinct
score (:func:`auc_from_counts`): ties count one half, as in scikit-learn's
``roc_auc_score``, and weighted counts (a bootstrap replicate, a histogram of scores)
go through the same kernel. :func:`auc_rows` is the same quantity for many score rows at
once, by rank sums. :func:`holm` adjusts p-values for multiple comparisons, the one
correction every comparison across models (accuracy, the fairness screen) uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from scorelab.exceptions import DataError

__all__ = ["MAX_SEED", "P_EPS", "auc", "auc_from_counts", "auc_rows", "holm", "logit", "sigmoid",
           "tied_counts"]

#: Largest seed numpy and scikit-learn accept (2^32 - 1).
MAX_SEED = 2**32 - 1

#: Probabilities are clipped to ``[P_EPS, 1 - P_EPS]`` before taking log-odds (a log-odds
#: of about +-27.6 at the ends).
P_EPS = 1e-12


def logit(p: Any) -> np.ndarray:
    """Log-odds ``log(p / (1 - p))`` of probabilities, clipped to ``[P_EPS, 1 - P_EPS]``."""
    q = np.clip(np.asarray(p, dtype=float), P_EPS, 1.0 - P_EPS)
    return np.log(q) - np.log1p(-q)


def sigmoid(z: Any) -> np.ndarray:
    """The inverse of :func:`logit`, ``1 / (1 + exp(-z))``, written with ``tanh`` so that
    no value overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def auc_from_counts(P: np.ndarray, N: np.ndarray) -> np.ndarray:
    """AUC of each row of ``(B, K)`` counts of defaulters ``P`` and non-defaulters ``N``
    per distinct score, the scores in ascending order of risk: the chance that a
    defaulter scores above a non-defaulter, ties counting one half (NaN without both)."""
    tot_p, tot_n = P.sum(axis=1), N.sum(axis=1)
    below = np.cumsum(N, axis=1) - N  # non-defaulters with a strictly lower score
    with np.errstate(divide="ignore", invalid="ignore"):
        return (P * (below + 0.5 * N)).sum(axis=1) / (tot_p * tot_n)


def tied_counts(y: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Counts of defaulters (``y == 1``) and non-defaulters per distinct ``score``, in
    ascending order of score, as ``(1, K)`` arrays for :func:`auc_from_counts`."""
    s = np.asarray(score, dtype=float)
    positive = np.asarray(y).astype(bool)
    values, inverse = np.unique(s, return_inverse=True)
    P = np.bincount(inverse, weights=positive, minlength=values.size)
    total = np.bincount(inverse, minlength=values.size).astype(float)
    return P[None, :], (total - P)[None, :]


def auc(y: Any, score: Any) -> float:
    """The AUC of ``score`` (higher = riskier) against 0/1 labels ``y``; NaN when one
    class is absent. Unvalidated: :func:`scorelab.evaluate.auc` checks its inputs."""
    return float(auc_from_counts(*tied_counts(y, score))[0])


def auc_rows(scores: Any, y: Any) -> np.ndarray:
    """The AUC of every row of ``scores`` (forecasts x citizens) against ``y``, by the
    Mann-Whitney rank sum (tied scores share their average rank)."""
    z = np.atleast_2d(np.asarray(scores, dtype=float))
    positive = np.asarray(y, dtype=bool)
    n1 = int(positive.sum())
    n0 = positive.size - n1
    ranks = rankdata(z, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (ranks[:, positive].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values (controls the family-wise error rate).

    Sorted ascending, the i-th smallest of m p-values (i from 0) is multiplied by
    ``m - i``; a running maximum keeps the order and values are capped at 1. Reject a
    hypothesis when its adjusted p-value is below the level. Returned in input order.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise DataError(f"p_values must be one-dimensional, got shape {p.shape}.")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise DataError("p_values must be numbers in [0, 1].")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out
