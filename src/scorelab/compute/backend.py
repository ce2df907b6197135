"""``compute.backend``: the study's stages on this machine, or on a Dask cluster.

:func:`open_backend` gives ``None`` for the local backend (the study runs as it always
did) or a :class:`DaskBackend` holding the cluster for the whole study: the population
is drawn partition by partition on the workers, the fold engine trains and scores
there (:mod:`scorelab.compute.fit`), and the run records which model trained how.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from scorelab.compute.cluster import DaskRunner, dask_client
from scorelab.compute.counts import decision_rates, merge_counts, outcome_counts
from scorelab.compute.fit import DistributedFit, training_note
from scorelab.compute.population import Bounds, generate_partitioned, partition_bounds
from scorelab.config import ExperimentConfig, SyntheticPopulation, age_attribute
from scorelab.data.groups import group_column
from scorelab.data.synthetic import Population
from scorelab.protocol import Fold, FoldResults, PreparedModel, Progress

__all__ = ["DaskBackend", "open_backend"]


@dataclass
class DaskBackend:
    """The cluster of one study and the population's partitions on it."""

    client: Any
    config: ExperimentConfig
    partitions: list[Any] = field(default_factory=list)
    bounds: list[Bounds] = field(default_factory=list)

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def n_partitions(self) -> int:
        return self.config.compute.dask.partitions or 2 * max(self.n_workers, 1)

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
        dask = self.config.compute.dask
        return DistributedFit(self.client, self.partitions, self.bounds, dask.sample_size,
                              self.config.seed)

    def fit_folds(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                  folds: list[Fold], target: str,
                  progress: Progress | None = None) -> FoldResults:
        return self._engine(frame).fit_folds(models, frame, y, folds, target, progress)

    def fit_final(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                  target: str) -> dict[str, BaseEstimator]:
        return self._engine(frame).fit_final(models, frame, y, target)

    def decision_counts(self, predictions: pd.DataFrame, frame: pd.DataFrame
                        ) -> dict[str, Any]:
        """Each model's decision rates (first repeat), overall and per group of every
        audited attribute, from counts made partition by partition on the workers."""
        fair = self.config.fairness
        first = predictions[predictions["repeat"] == 0]
        names = list(first["model"].cat.categories)
        by_model = {n: first[first["model"] == n] for n in names}
        approved = np.stack([by_model[n]["approved"].to_numpy() for n in names])
        defaulted = by_model[names[0]]["defaulted"].to_numpy()
        groups = [group_column(frame, a, fair.age_bands, age_attribute(self.config),
                               fair.missing_protected).astype("category")
                  for a in fair.attributes if a in frame]
        codes = [g.cat.codes.to_numpy() for g in groups]
        sizes = [len(g.cat.categories) for g in groups]
        parts = self.client.gather([self.client.submit(
            _partition_counts, approved[:, a:b], defaulted[a:b], [c[a:b] for c in codes],
            sizes, pure=False) for a, b in self.bounds])
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            overall = merge_counts([p[i][0] for p in parts])
            entry = {"all": _rates(overall[0], "all")}
            for j, g in enumerate(groups):
                merged = merge_counts([p[i][j + 1] for p in parts])
                entry[str(g.name)] = [_rates(row, str(label)) for label, row in
                                      zip(g.cat.categories, merged, strict=True)]
            out[name] = entry
        return out

    def info(self, models: list[PreparedModel], predictions: pd.DataFrame,
             frame: pd.DataFrame) -> dict[str, Any]:
        """What the run records of its backend (study.json ``compute``)."""
        dask = self.config.compute.dask
        return {"backend": "dask",
                "cluster": dask.address or "LocalCluster (loopback, started by scorelab)",
                "workers": self.n_workers, "partitions": len(self.bounds),
                "sample_size": dask.sample_size,
                "training": {m.name: training_note(m.estimator, dask.sample_size)
                             for m in models},
                "decision_counts": self.decision_counts(predictions, frame)}


def _partition_counts(approved: np.ndarray, defaulted: np.ndarray, codes: list[np.ndarray],
                      sizes: list[int]) -> list[list[np.ndarray]]:
    """One partition's counts: per model, overall then per audited attribute."""
    return [[outcome_counts(row, defaulted)] + [outcome_counts(row, defaulted, c, k)
                                                for c, k in zip(codes, sizes, strict=True)]
            for row in approved]


def _rates(counts: np.ndarray, group: str) -> dict[str, Any]:
    """One group's counts and rates, JSON-ready (an undefined rate is null)."""
    rates = {k: float(v[0]) for k, v in decision_rates(counts).items()}
    return {"group": group, "counts": [int(c) for c in counts],
            **{k: (None if np.isnan(v) else v) for k, v in rates.items()}}


@contextlib.contextmanager
def open_backend(config: ExperimentConfig) -> Iterator[DaskBackend | None]:
    """The study's backend, open for the whole study: ``None`` is this machine."""
    if config.compute.backend == "local":
        yield None
        return
    with dask_client(config.compute.dask) as client:
        yield DaskBackend(client, config)
