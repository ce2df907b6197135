"""The frontier of accuracy and disparity, and the least discriminatory alternative.

A candidate is on the frontier when no other candidate is at least as accurate (AUC)
and at least as fair (lower ``|1 - AIR|``) and strictly better on one of the two.

For each business-necessity tolerance ``t`` a candidate *serves the need* unless the
paired DeLong test shows, one-sided at level ``alpha``, that it loses more than ``t``
AUC against the reference (H0: loss <= t). Among those, the least discriminatory one is
chosen (of equally discriminatory ones, the most accurate). Its disparity reduction
counts as found only when the bootstrap interval of the paired reduction,
Bonferroni-adjusted for every candidate that served the need (the search looked at all
of them), lies above zero: otherwise the search reports that no alternative within the
tolerance reduces disparity significantly.
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


def choose(table: pd.DataFrame, reductions: np.ndarray, reference: dict[str, Any],
           tolerance: float, alpha: float) -> dict[str, Any]:
    """The least discriminatory candidate that serves the need at ``tolerance``.

    ``reductions`` holds bootstrap replicates (B, k) of the paired disparity reduction
    (reference minus candidate) of the rows of ``table``.
    """
    ok = serves_need(table["auc_loss"], table["auc_loss_se"], tolerance, alpha)
    out: dict[str, Any] = {"tolerance": tolerance, "serving": int(ok.sum()), "chosen": None,
                           "significant": False, "reduction": None,
                           "reduction_interval": None}
    improves = ok & (table["disparity"].to_numpy() < reference["disparity"])
    if not improves.any():
        out["statement"] = (f"No candidate within an AUC loss of {tolerance:g} has a lower "
                            "disparity than the reference.")
        return out
    rows = np.flatnonzero(improves)  # least disparity first; among equals, the most accurate
    position = int(rows[np.lexsort((-table["auc"].to_numpy()[rows],
                                    table["disparity"].to_numpy()[rows]))[0]])
    level = alpha / max(int(ok.sum()), 1)  # simultaneous over every candidate looked at
    low, high = np.quantile(reductions[:, position], [level, 1.0 - alpha / 2])
    row = table.iloc[position]
    out.update(chosen=str(row["candidate"]), significant=bool(low > 0),
               reduction=float(reference["disparity"] - row["disparity"]),
               reduction_interval=[float(low), float(high)])
    if low > 0:
        out["statement"] = (f"{row['candidate']} serves the need (AUC loss {row['auc_loss']:+.4f}, "
                            f"tolerance {tolerance:g}) and reduces |1 - AIR| from "
                            f"{reference['disparity']:.3f} to {row['disparity']:.3f}; the "
                            f"reduction's simultaneous lower bound is {low:.3f} > 0.")
    else:
        out["statement"] = (f"No alternative within an AUC loss of {tolerance:g} reduces "
                            f"disparity significantly: the best, {row['candidate']}, lowers "
                            f"|1 - AIR| from {reference['disparity']:.3f} to "
                            f"{row['disparity']:.3f}, but the reduction's simultaneous lower "
                            f"bound is {low:.3f} (over {int(ok.sum())} candidates).")
    return out
