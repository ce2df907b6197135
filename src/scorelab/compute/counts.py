"""Decision rates from the fairness audit's mergeable counts, partition by partition.

A partition's citizens reduce to :class:`scorelab.fairness.counts.GroupCounts` (the one
counting kernel: citizens per group x decision x outcome, here with the all-ones weight
only); counts of partitions add with ``+`` (integers: exact, in any order), and every
rate of the decision (approval rate, default rate among the approved and the rejected,
approval among defaulters and non-defaulters) is a ratio of merged counts, equal to the
one-pass figure on all citizens.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scorelab.fairness.counts import GroupCounts

__all__ = ["DECISION_RATES", "decision_cells", "decision_rates"]

#: Rates read from the counts, by name: (numerator cells, denominator cells) over the
#: cells of :func:`decision_cells`: 0: rejected good, 1: rejected bad, 2: approved good,
#: 3: approved bad.
DECISION_RATES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "approval_rate": ((2, 3), (0, 1, 2, 3)),
    "default_rate_approved": ((3,), (2, 3)),
    "default_rate_rejected": ((1,), (0, 1)),
    "approval_rate_defaulters": ((3,), (1, 3)),
    "approval_rate_non_defaulters": ((2,), (0, 2)),
}


def decision_cells(counts: GroupCounts) -> np.ndarray:
    """Citizens per group x (rejected good, rejected bad, approved good, approved bad) of
    the point estimate (counts of one outcome, the observed default): int64 (groups, 4)."""
    cells = counts.cells[0]  # (groups, decision [approved, rejected], outcome code)
    return np.rint(np.concatenate([cells[:, 1, :2], cells[:, 0, :2]], axis=1)).astype(
        np.int64)


def decision_rates(cells: np.ndarray) -> dict[str, Any]:
    """Every :data:`DECISION_RATES` rate per group (NaN where the denominator is 0)."""
    cells = np.atleast_2d(cells)
    out: dict[str, Any] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, (num, den) in DECISION_RATES.items():
            out[name] = cells[:, list(num)].sum(axis=1) / cells[:, list(den)].sum(axis=1)
    return out
