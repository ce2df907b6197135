"""Decision metrics from counts, one partition at a time, merged by adding.

A partition's citizens reduce to a table of counts per group x decision x outcome;
counts add across partitions (in any order, exactly), and every rate of the decision
(approval rate, default rate among the approved and the rejected, approval among
defaulters and non-defaulters) is a ratio of merged counts, equal to the one-pass
figure on all citizens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["DECISION_RATES", "decision_rates", "merge_counts", "outcome_counts"]

#: Rates read from the counts, by name: (numerator cells, denominator cells) over the
#: flattened (approved, defaulted) cells 0: rejected good, 1: rejected bad,
#: 2: approved good, 3: approved bad.
DECISION_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "approval_rate": ((2, 3), (0, 1, 2, 3)),
    "default_rate_approved": ((3,), (2, 3)),
    "default_rate_rejected": ((1,), (0, 1)),
    "approval_rate_defaulters": ((3,), (1, 3)),
    "approval_rate_non_defaulters": ((2,), (0, 2)),
}


def outcome_counts(approved: np.ndarray, defaulted: np.ndarray,
                   groups: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
    """Citizens per group x (approved, defaulted) cell: an int64 array (n_groups, 4).

    ``groups`` holds each citizen's group code (0 to n_groups - 1; -1 = in no group,
    not counted); None puts everyone in group 0.
    """
    cell = 2 * np.asarray(approved, dtype=np.int64) + np.asarray(defaulted, dtype=np.int64)
    code = np.zeros(cell.size, dtype=np.int64) if groups is None else np.asarray(
        groups, dtype=np.int64)
    keep = code >= 0
    return np.bincount(4 * code[keep] + cell[keep], minlength=4 * n_groups).reshape(
        n_groups, 4)


def merge_counts(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The counts of all partitions together (integer sums: exact, order-free)."""
    return np.sum(np.stack(parts), axis=0)


def decision_rates(counts: np.ndarray) -> dict[str, Any]:
    """Every :data:`DECISION_RATES` rate per group (NaN where the denominator is 0)."""
    counts = np.atleast_2d(counts)
    out: dict[str, Any] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, (num, den) in DECISION_RATES.items():
            out[name] = counts[:, list(num)].sum(axis=1) / counts[:, list(den)].sum(axis=1)
    return out
