"""The synthetic population drawn in partitions: citizen-id ranges, each on its own.

Every citizen's exogenous draws depend only on (seed, citizen id) (see
:data:`scorelab.data.synthetic.BLOCK_CITIZENS`), so a partition is generated where it
lives. The one number that depends on every citizen, the risk intercept that sets the
default rate, is solved by Newton's method over per-partition sums kept as exact
integers (fixed point, 2^-36), which merge in any order: the same citizens, bit for bit,
whatever the partitioning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from scorelab.config import SyntheticPopulation
from scorelab.data.synthetic import (
    SCHEMA,
    Population,
    citizen_risk,
    simulate_citizens,
)

__all__ = ["FIXED_POINT_BITS", "Bounds", "LocalRunner", "Runner", "generate_partitioned",
           "merged_intercept", "partition_bounds", "rate_sums"]

Bounds = tuple[int, int]
#: Resolution of the exact sums: a probability is counted in units of 2^-36, so 50
#: million citizens still sum within a signed 64-bit integer.
FIXED_POINT_BITS = 36
_SCALE = float(2**FIXED_POINT_BITS)

class Runner(Protocol):
    """Runs a function on each partition: here, one after the other, or on a cluster
    (:class:`scorelab.engine.dask.cluster.DaskRunner`), where results stay on the workers
    until gathered."""

    def map(self, func: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
        ...

    def gather(self, handles: list[Any]) -> list[Any]:
        ...


class LocalRunner:
    """Partitions computed in this process, in order."""

    def map(self, func: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [func(*a) for a in args]

    def gather(self, handles: list[Any]) -> list[Any]:
        return list(handles)


def partition_bounds(n: int, parts: int) -> list[Bounds]:
    """``parts`` consecutive citizen-id ranges covering ``0:n``, as equal as can be."""
    edges = np.linspace(0, n, min(parts, n) + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def rate_sums(risk: np.ndarray, intercept: float) -> tuple[int, int]:
    """Sums of P(default) and of its slope p(1-p) at ``intercept``, as exact integers."""
    p = 0.5 * (1.0 + np.tanh(0.5 * (intercept + risk)))
    return (int(np.round(p * _SCALE).astype(np.int64).sum()),
            int(np.round(p * (1.0 - p) * _SCALE).astype(np.int64).sum()))


def merged_intercept(sums_at: Callable[[float], Iterable[tuple[int, int]]], n: int,
                     target_rate: float) -> float:
    """Intercept ``c`` with mean P(default) == ``target_rate``, by Newton's method on
    merged partition sums (``sums_at(c)`` gives each partition's :func:`rate_sums`)."""
    c = float(np.log(target_rate) - np.log1p(-target_rate))
    for _ in range(50):
        parts = list(sums_at(c))
        mean = sum(s[0] for s in parts) / _SCALE / n
        slope = sum(s[1] for s in parts) / _SCALE / n
        gap = mean - target_rate
        if abs(gap) < 1e-10 or slope <= 0:
            break
        c -= gap / slope
    return c


def generate_partitioned(cfg: SyntheticPopulation, seed: int, parts: int,
                         runner: Runner | None = None
                         ) -> tuple[Population, list[Any], list[Bounds]]:
    """The population drawn in ``parts`` citizen-id ranges by ``runner`` (default: here).

    Returns the population (gathered, in citizen order), each partition's frame as the
    runner holds it (on a cluster: where it was drawn) and the partitions' bounds.
    """
    runner = runner or LocalRunner()
    bounds = partition_bounds(cfg.n_citizens, parts)
    risks = runner.map(citizen_risk, [(cfg, seed, a, b) for a, b in bounds])

    def sums_at(c: float) -> list[tuple[int, int]]:
        return runner.gather(runner.map(rate_sums, [(r, c) for r in risks]))

    intercept = merged_intercept(sums_at, cfg.n_citizens, cfg.true_default_rate)
    frames = runner.map(simulate_citizens, [(cfg, seed, a, b, intercept) for a, b in bounds])
    gathered = runner.gather(frames)
    frame = pd.concat(gathered, ignore_index=True) if len(gathered) > 1 else gathered[0]
    meta = {"seed": seed, "risk_intercept": intercept, "n_citizens": cfg.n_citizens,
            "partitions": len(bounds)}
    return Population(frame, SCHEMA, meta), frames, bounds
