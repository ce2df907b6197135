"""The frontier of accuracy and disparity, and the least discriminatory alternative.

A candidate is on the frontier when no other candidate is at least as accurate (AUC)
and at least as fair (lower ``|1 - AIR|``) and strictly better on one of the two.

For each business-necessity tolerance ``t`` a candidate *serves the need* unless the
paired DeLong test shows, one-sided at level ``alpha``, that it loses more than ``t``
AUC against the reference (H0: loss <= t). Among those, the least discriminatory one is
chosen (of equally discriminatory ones, the most accurate). Whether it is adopted,
worth considering or neither is decided by :mod:`scorelab.lda.verdict`, one rule for
every sentence of the search.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["choose", "non_dominated", "serves_need"]


def non_dominated(auc: np.ndarray, disparity: np.ndarray) -> np.ndarray:
    """Mask of the candidates no other candidate dominates (higher AUC is better,
    lower disparity is better)."""
    a, d = np.asarray(auc, dtype=float), np.asarray(disparity, dtype=float)
    at_least = (a[None, :] >= a[:, None]) & (d[None, :] <= d[:, None])
    strictly = (a[None, :] > a[:, None]) | (d[None, :] < d[:, None])
    return ~(at_least & strictly).any(axis=1)


def serves_need(loss: np.ndarray, se: np.ndarray, tolerance: float, alpha: float
                ) -> np.ndarray:
    """True where the one-sided DeLong test does not find the AUC loss above
    ``tolerance`` at level ``alpha``."""
    loss, se = np.asarray(loss, dtype=float), np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (loss - tolerance) / np.where(se > 0, se, 1.0),
                     np.where(loss > tolerance, np.inf, -np.inf))
    return z <= stats.norm.ppf(1.0 - alpha)


def choose(table: pd.DataFrame, reference: dict[str, Any], tolerance: float, alpha: float
           ) -> dict[str, Any]:
    """The least discriminatory candidate that serves the need at ``tolerance``, with its
    reduction and the table's simultaneous bounds of it (``reduction_low``,
    ``reduction_high``). Whether to adopt it is :func:`scorelab.lda.verdict.verdict_of`'s."""
    ok = serves_need(table["auc_loss"], table["auc_loss_se"], tolerance, alpha)
    out: dict[str, Any] = {"tolerance": tolerance, "serving": int(ok.sum()), "chosen": None,
                           "significant": False, "reduction": None,
                           "reduction_interval": None}
    improves = ok & (table["disparity"].to_numpy() < reference["disparity"])
    if not improves.any():
        return out
    rows = np.flatnonzero(improves)  # least disparity first; among equals, the most accurate
    position = int(rows[np.lexsort((-table["auc"].to_numpy()[rows],
                                    table["disparity"].to_numpy()[rows]))[0]])
    row = table.iloc[position]
    low, high = float(row["reduction_low"]), float(row["reduction_high"])
    out.update(chosen=str(row["candidate"]), significant=bool(low > 0),
               reduction=float(reference["disparity"] - row["disparity"]),
               reduction_interval=[low, high])
    return out
