"""The fold engine on a Dask cluster: the same folds, the same out-of-fold contract.

Tree families whose raw score is the log-odds (LightGBM, the forest without its inner
cross-fitted calibration: :func:`scorelab.engine.trains_on_every_row`) train on every
training citizen of a fold with ``lightgbm.dask`` (data-parallel: each worker holds its
partitions). The other families (scorecard binning, MLP, expert calibrators, hybrids,
mitigation variants, the calibrated forest) cannot train distributed and train on the
seeded sample of ``compute.sample_size`` of the fold's training citizens that the local
engine gives them too (:class:`scorelab.engine.FitSample`; all of them when the
sample size is null, gathered to one worker). Every fold model then scores the
citizens it held out, partition by partition, where the partitions live.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from threadpoolctl import threadpool_limits

from scorelab.engine import (
    FitSample,
    Fold,
    FoldResults,
    PreparedModel,
    Progress,
    fold_of,
    trains_on_every_row,
)
from scorelab.engine.dask.population import Bounds

__all__ = ["DistributedFit"]

_HELD = "_held_out_in_repeat_"


def _with_held(frame: pd.DataFrame, held: np.ndarray) -> pd.DataFrame:
    """A partition with, per repeat, the fold that holds each citizen out."""
    return frame.assign(**{f"{_HELD}{r}": held[r] for r in range(held.shape[0])})


def _score(frame: pd.DataFrame, models: dict[tuple[int, int], BaseEstimator],
           columns: list[str], repeats: int) -> np.ndarray:
    """Each citizen of a partition scored by the fold model that held it out."""
    out = np.full((repeats, len(frame)), np.nan)
    with threadpool_limits(1):
        for (repeat, fold), model in models.items():
            rows = np.flatnonzero(frame[f"{_HELD}{repeat}"].to_numpy() == fold)
            if rows.size:
                out[repeat, rows] = model.predict_proba(frame.iloc[rows][columns])[:, 1]
    return out


def _fit_sample(estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray
                ) -> tuple[BaseEstimator, float]:
    """A fresh clone fitted on the sample (one thread), and the seconds it took."""
    start = time.perf_counter()
    with threadpool_limits(1):
        return clone(estimator).fit(X, y), time.perf_counter() - start


@dataclass
class DistributedFit:
    """The fold engine over a cluster's partitions (futures of pandas frames)."""

    client: Any
    partitions: list[Any]
    bounds: list[Bounds]
    sample: FitSample | None

    def fit_folds(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                  folds: list[Fold], target: str,
                  progress: Progress | None = None) -> FoldResults:
        """Every model on every fold; out-of-fold P(default) of every citizen."""
        repeats = max(f.repeat for f in folds) + 1
        held = np.stack([fold_of(folds, y.size, r) for r in range(repeats)])
        return self._fit(models, frame, y, folds, held, target, progress)

    def fit_final(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
                  target: str) -> dict[str, BaseEstimator]:
        """Each model on every citizen (the distributed ones) or on the seeded sample."""
        everyone = Fold(repeat=-1, fold=-1, train=np.arange(y.size), test=np.arange(0))
        held = np.full((1, y.size), -1)
        fits = self._fit(models, frame, y, [everyone], held, target, None, score=False)
        return {name: fitted[(-1, -1)] for name, fitted in fits.fold_models.items()}

    def _fit(self, models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
             folds: Sequence[Fold], held: np.ndarray, target: str,
             progress: Progress | None, score: bool = True) -> FoldResults:
        import dask.dataframe as dd

        parts = [self.client.submit(_with_held, p, held[:, a:b], pure=False)
                 for p, (a, b) in zip(self.partitions, self.bounds, strict=True)]
        meta = _with_held(frame.iloc[:0], held[:, :0])
        data = dd.from_delayed(parts, meta=meta, verify_meta=False)
        out = FoldResults({m.name: np.full((held.shape[0], y.size), np.nan) for m in models})
        total, done = len(models) * len(folds), 0
        # Every sampled fit is submitted at once (the workers share them out); the
        # lightgbm.dask fits, which use every worker, run one after another meanwhile.
        pending: dict[Any, tuple[str, tuple[int, int]]] = {}
        fitted: dict[str, dict[tuple[int, int], BaseEstimator]] = {m.name: {} for m in models}
        seconds = dict.fromkeys(fitted, 0.0)
        for m in models:
            if trains_on_every_row(m.estimator):
                continue
            for fold in folds:
                sample = self._rows(fold)
                # below the lightgbm.dask tasks, which wait for a thread on every worker
                future = self.client.submit(_fit_sample, m.estimator,
                                            frame.iloc[sample][m.columns], y[sample],
                                            pure=False, priority=-1)
                pending[future] = (m.name, (fold.repeat, fold.fold))
        for m in models:
            if not trains_on_every_row(m.estimator):
                continue
            for fold in folds:
                # LightGBM's settings (bins, categories) are read on a sample of the rows
                sample = self._rows(fold)
                rows = (data[data[f"{_HELD}{fold.repeat}"] != fold.fold]
                        if fold.test.size else data)
                start = time.perf_counter()
                fitted[m.name][(fold.repeat, fold.fold)] = self._fit_lightgbm(
                    m.estimator, frame.iloc[sample][m.columns], y[sample], rows[m.columns],
                    rows[target])
                seconds[m.name] += time.perf_counter() - start
                done += 1
                if progress is not None:
                    progress(done, total)
        for future, (name, key) in pending.items():  # in submission order
            fitted[name][key], took = future.result()
            seconds[name] += took
            done += 1
            if progress is not None:
                progress(done, total)
        for m in models:
            # models in config order, folds in fold order, as the local engine keeps them
            out.fold_models[m.name] = {(f.repeat, f.fold): fitted[m.name][(f.repeat, f.fold)]
                                       for f in folds}
            if score:
                scored = self.client.gather([self.client.submit(
                    _score, p, out.fold_models[m.name], m.columns, held.shape[0], pure=False)
                    for p in parts])
                out.oof[m.name] = np.concatenate(scored, axis=1)
            out.fit_seconds[m.name] = seconds[m.name]
        return out

    def _rows(self, fold: Fold) -> np.ndarray:
        """The rows a sampled fit trains on, or a distributed fit reads its settings
        (bins, categories) from: the local engine's sample of the fold's training
        citizens (all of them without a sample size)."""
        return fold.train if self.sample is None else self.sample.drawn(fold)

    def _fit_lightgbm(self, estimator: BaseEstimator, X_sample: pd.DataFrame,
                      y_sample: np.ndarray, X: Any, y: Any) -> BaseEstimator:
        """``lightgbm.dask`` on the partitions, adopted by a clone of ``estimator``."""
        from lightgbm import DaskLGBMClassifier

        model = clone(estimator)
        params = model.lightgbm_settings(X_sample, y_sample)
        params.pop("n_jobs", None)  # a worker's threads are its own (threads_per_worker)
        # verbosity=-1 quiets training; LightGBM's network prints its [Info] lines from
        # threads of its own before reading it (the LocalCluster's workers print to
        # /dev/null: scorelab.engine.dask.cluster), and lightgbm.dask prints one line here.
        params.pop("verbose", None)
        params["verbosity"] = -1
        # lightgbm.dask waits through the current client, and warns on every fit that the
        # wrapper's own n_jobs gives way to the workers' threads (which is what we want).
        with self.client.as_current(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            with contextlib.redirect_stdout(io.StringIO()):  # "Finding random open ports"
                trained = DaskLGBMClassifier(client=self.client, **params).fit(X, y)
        return model.adopt(trained.to_local())
