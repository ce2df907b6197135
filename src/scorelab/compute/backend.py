"""``compute.backend``: the study's stages on this machine, or on a Dask cluster.

:func:`open_backend` gives ``None`` for the local backend (the study runs as it always
did) or a :class:`DaskBackend` holding the cluster for the whole study: the population
is drawn partition by partition on the workers, the fold engine trains and scores
there (:mod:`scorelab.compute.fit`), and the run records which model trained how.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from scorelab.compute.cluster import DaskRunner, dask_client
from scorelab.compute.counts import decision_cells, decision_rates
from scorelab.compute.fit import DistributedFit
from scorelab.compute.population import Bounds, generate_partitioned, partition_bounds
from scorelab.config import ExperimentConfig, SyntheticPopulation, age_attribute
from scorelab.data.groups import group_column
from scorelab.data.synthetic import Population
from scorelab.fairness.counts import bootstrap_weights, count_groups, score_edges
from scorelab.protocol import (
    FitSample,
    Fold,
    FoldResults,
    PreparedModel,
    Progress,
    training_note,
    trains_on_every_row,
)

__all__ = ["DaskBackend", "open_backend"]

_DISTRIBUTED = "distributed: lightgbm.dask on every training citizen of each fold"


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
        return DistributedFit(self.client, self.partitions, self.bounds,
                              FitSample.of(self.config))

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
        p = np.stack([by_model[n]["p_default"].to_numpy() for n in names])
        points = np.stack([by_model[n]["score"].to_numpy() for n in names])
        defaulted = by_model[names[0]]["defaulted"].to_numpy()
        groups = [group_column(frame, a, fair.age_bands, age_attribute(self.config),
                               fair.missing_protected).astype("category")
                  for a in fair.attributes if a in frame]
        # One group column per attribute, plus "all" (code 0) first; codes offset so the
        # attributes' groups follow one another, as the fairness audit lays them out.
        sizes = [1] + [len(g.cat.categories) for g in groups]
        offsets = np.cumsum([0, *sizes[:-1]])
        codes = np.column_stack([np.zeros(len(frame), dtype=np.int64)] + [
            np.where(c >= 0, c + o, -1) for c, o in zip(
                (g.cat.codes.to_numpy().astype(np.int64) for g in groups), offsets[1:],
                strict=True)])
        edges = [score_edges(row) for row in p]
        parts = self.client.gather([self.client.submit(
            _partition_counts, codes[a:b], int(sum(sizes)), approved[:, a:b], defaulted[a:b],
            p[:, a:b], points[:, a:b], edges, pure=False) for a, b in self.bounds])
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            merged = decision_cells(functools.reduce(operator.add, (q[i] for q in parts)))
            entry = {"all": _rates(merged[0], "all")}
            for g, o in zip(groups, offsets[1:], strict=True):
                entry[str(g.name)] = [_rates(merged[o + k], str(label)) for k, label in
                                      enumerate(g.cat.categories)]
            out[name] = entry
        return out

    def info(self, models: list[PreparedModel], predictions: pd.DataFrame,
             frame: pd.DataFrame) -> dict[str, Any]:
        """What the run records of its backend (study.json ``compute``)."""
        dask, sample = self.config.compute.dask, FitSample.of(self.config)
        return {"backend": "dask",
                "cluster": dask.address or "LocalCluster (loopback, started by scorelab)",
                "workers": self.n_workers, "partitions": len(self.bounds),
                "sample_size": self.config.compute.sample_size,
                "training": {m.name: (_DISTRIBUTED if trains_on_every_row(m.estimator)
                                      else training_note(m.estimator, sample))
                             for m in models},
                "decision_counts": self.decision_counts(predictions, frame)}


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


@contextlib.contextmanager
def open_backend(config: ExperimentConfig) -> Iterator[DaskBackend | None]:
    """The study's backend, open for the whole study: ``None`` is this machine."""
    if config.compute.backend == "local":
        yield None
        return
    with dask_client(config.compute.dask) as client:
        yield DaskBackend(client, config)
