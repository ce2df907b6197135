"""``compute.backend``: the study's stages on this machine, or on a Dask cluster.

:func:`open_backend` gives ``None`` for the local backend (the study runs as it always
did) or a :class:`DaskBackend` holding the cluster for the whole study: the population
is drawn partition by partition on the workers, the fold engine trains and scores
there (:mod:`scorelab.engine.dask.fit`), and the run records which model trained how.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from scorelab.config import Compute, SyntheticPopulation
from scorelab.data.synthetic import Population
from scorelab.engine import (
    FitSample,
    Fold,
    FoldResults,
    PreparedModel,
    Progress,
    training_note,
    trains_on_every_row,
)
from scorelab.engine.dask.cluster import DaskRunner, dask_client
from scorelab.engine.dask.fit import DistributedFit
from scorelab.engine.dask.population import Bounds, generate_partitioned, partition_bounds

__all__ = ["DaskBackend", "open_backend"]

_DISTRIBUTED = "distributed: lightgbm.dask on every training citizen of each fold"


@dataclass
class DaskBackend:
    """The cluster of one study and the population's partitions on it."""

    client: Any
    compute: Compute
    seed: int
    partitions: list[Any] = field(default_factory=list)
    bounds: list[Bounds] = field(default_factory=list)

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def n_partitions(self) -> int:
        return self.compute.dask.partitions or 2 * max(self.n_workers, 1)

    def generate(self, cfg: SyntheticPopulation, seed: int) -> Population:
        """The synthetic population, each partition drawn on a worker (and kept there)."""
        population, self.partitions, self.bounds = generate_partitioned(
            cfg, seed, self.n_partitions, DaskRunner(self.client))
        return population

    def _engine(self, frame: pd.DataFrame) -> DistributedFit:
        """The fold engine over the population's partitions (a table is sent in parts)."""
        if not self.partitions:
            self.bounds = partition_bounds(len(frame), self.n_partitions)
            self.partitions = self.client.scatter([frame.iloc[a:b] for a, b in self.bounds])
        return DistributedFit(self.client, self.partitions, self.bounds,
                              FitSample.of(self.compute.sample_size, self.seed))

    def fit_folds(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                  folds: list[Fold], target: str,
                  progress: Progress | None = None) -> FoldResults:
        return self._engine(frame).fit_folds(models, frame, y, folds, target, progress)

    def fit_final(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                  target: str) -> dict[str, BaseEstimator]:
        return self._engine(frame).fit_final(models, frame, y, target)

    def map_partitions(self, task: Callable[..., Any],
                       args_of: Callable[[int, int], tuple[Any, ...]]) -> list[Any]:
        """``task(*args_of(a, b))`` run on the workers for every partition's citizens
        ``[a, b)``, in partition order: how a stage counts partition by partition."""
        return self.client.gather([self.client.submit(task, *args_of(a, b), pure=False)
                                   for a, b in self.bounds])

    def info(self, models: list[PreparedModel]) -> dict[str, Any]:
        """What the run records of its backend (study.json ``compute``; the study adds
        the decision counts made partition by partition)."""
        dask = self.compute.dask
        sample = FitSample.of(self.compute.sample_size, self.seed)
        return {"backend": "dask",
                "cluster": dask.address or "LocalCluster (loopback, started by scorelab)",
                "workers": self.n_workers, "partitions": len(self.bounds),
                "sample_size": self.compute.sample_size,
                "training": {m.name: (_DISTRIBUTED if trains_on_every_row(m.estimator)
                                      else training_note(m.estimator, sample))
                             for m in models}}


@contextlib.contextmanager
def open_backend(compute: Compute, seed: int) -> Iterator[DaskBackend | None]:
    """The study's backend, open for the whole study: ``None`` is this machine."""
    if compute.backend == "local":
        yield None
        return
    with dask_client(compute.dask) as client:
        yield DaskBackend(client, compute, seed)
