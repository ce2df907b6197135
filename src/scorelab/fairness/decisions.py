"""Decision rates from the fairness audit's mergeable counts, partition by partition.

A partition's citizens reduce to :class:`scorelab.fairness.counts.GroupCounts` (the one
counting kernel: citizens per group x decision x outcome, here with the all-ones weight
only); counts of partitions add with ``+`` (integers: exact, in any order), and every
rate of the decision (approval rate, default rate among the approved and the rejected,
approval among defaulters and non-defaulters) is a ratio of merged counts, equal to the
one-pass figure on all citizens.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scorelab.data.groups import group_column
from scorelab.fairness.counts import GroupCounts, bootstrap_weights, count_groups, score_edges

__all__ = ["DECISION_RATES", "PartitionMap", "decision_cells", "decision_counts",
           "decision_rates"]

#: Runs ``task(*args_of(a, b))`` for the citizens ``[a, b)`` of every partition and gives
#: the results in partition order (a Dask backend's ``map_partitions``).
PartitionMap = Callable[[Callable[..., Any], Callable[[int, int], tuple[Any, ...]]], list[Any]]

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


def decision_counts(predictions: pd.DataFrame, frame: pd.DataFrame, *,
                    attributes: Sequence[str], age_bands: Sequence[float],
                    age_column: str | None, missing: str = "group",
                    map_partitions: PartitionMap | None = None) -> dict[str, Any]:
    """Each model's decision rates (first repeat), overall and per group of every
    audited attribute, from counts made partition by partition by ``map_partitions``
    (all citizens at once without one) and merged: the one-pass figures, exactly."""
    first = predictions[predictions["repeat"] == 0]
    names = list(first["model"].cat.categories)
    by_model = {n: first[first["model"] == n] for n in names}
    approved = np.stack([by_model[n]["approved"].to_numpy() for n in names])
    p = np.stack([by_model[n]["p_default"].to_numpy() for n in names])
    points = np.stack([by_model[n]["score"].to_numpy() for n in names])
    defaulted = by_model[names[0]]["defaulted"].to_numpy()
    groups = [group_column(frame, a, age_bands, age_column, missing).astype("category")
              for a in attributes if a in frame]
    # One group column per attribute, plus "all" (code 0) first; codes offset so the
    # attributes' groups follow one another, as the fairness audit lays them out.
    sizes = [1] + [len(g.cat.categories) for g in groups]
    offsets = np.cumsum([0, *sizes[:-1]])
    codes = np.column_stack([np.zeros(len(frame), dtype=np.int64)] + [
        np.where(c >= 0, c + o, -1) for c, o in zip(
            (g.cat.codes.to_numpy().astype(np.int64) for g in groups), offsets[1:],
            strict=True)])
    edges = [score_edges(row) for row in p]

    def args_of(a: int, b: int) -> tuple[Any, ...]:
        return (codes[a:b], int(sum(sizes)), approved[:, a:b], defaulted[a:b], p[:, a:b],
                points[:, a:b], edges)

    parts = (map_partitions(_partition_counts, args_of) if map_partitions is not None
             else [_partition_counts(*args_of(0, len(frame)))])
    out: dict[str, Any] = {}
    for i, name in enumerate(names):
        merged = decision_cells(functools.reduce(operator.add, (q[i] for q in parts)))
        entry = {"all": _rates(merged[0], "all")}
        for g, o in zip(groups, offsets[1:], strict=True):
            entry[str(g.name)] = [_rates(merged[o + k], str(label)) for k, label in
                                  enumerate(g.cat.categories)]
        out[name] = entry
    return out


def _partition_counts(codes: np.ndarray, n_groups: int, approved: np.ndarray,
                      defaulted: np.ndarray, p: np.ndarray, points: np.ndarray,
                      edges: list[np.ndarray]) -> list[Any]:
    """One partition's counts per model (:func:`scorelab.fairness.counts.count_groups`,
    the point-estimate weight only)."""
    ones = bootstrap_weights(np.arange(len(codes)), 0, 0)
    return [count_groups(codes, n_groups, [defaulted], approved[i], p[i], points[i], ones,
                         edges[i]) for i in range(len(approved))]


def _rates(counts: np.ndarray, group: str) -> dict[str, Any]:
    """One group's counts and rates, JSON-ready (an undefined rate is null)."""
    rates = {k: float(v[0]) for k, v in decision_rates(counts).items()}
    return {"group": group, "counts": [int(c) for c in counts],
            **{k: (None if np.isnan(v) else v) for k, v in rates.items()}}
