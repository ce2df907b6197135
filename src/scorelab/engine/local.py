"""The local fold engine: every model fitted on every fold in parallel (joblib), the
fold models kept, every citizen scored out of fold.

The fitted fold models are kept: the explanation and fairness stages use the very model
that held a citizen out (so a score and its explanation always agree), and the run
directory saves them so that anyone can be scored or explained later. The hybrids'
cross-fitting runs as parts of their own, each once, however many hybrids share it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from threadpoolctl import threadpool_limits

from scorelab.engine.folds import Fold
from scorelab.engine.prepare import PreparedModel
from scorelab.engine.sample import FitSample, model_fold
from scorelab.models.base import estimator_identity
from scorelab.models.hybrid import CrossFit
from scorelab.models.tuning import Search, TuningPlan, search, search_key, seed_for

__all__ = ["FoldResults", "Progress", "fit_final", "fit_folds"]

log = logging.getLogger(__name__)
#: Called with (done, total) as fits finish.
Progress = Callable[[int, int], None]


@dataclass
class FoldResults:
    """Everything the fold engine produced, gathered per model.

    ``oof[name]`` holds the out-of-fold P(default) of every citizen, one row per repeat;
    ``fold_models[name][(repeat, fold)]`` is the fitted model that held that fold out.
    """

    oof: dict[str, np.ndarray]
    fold_models: dict[str, dict[tuple[int, int], BaseEstimator]] = field(default_factory=dict)
    #: seconds of each model's fits; a cross-fitting part shared by hybrids counts for
    #: the first that asked for it, and a refit taken from a family for the family
    fit_seconds: dict[str, float] = field(default_factory=dict)
    searches: dict[str, dict[tuple[int, int], Search]] = field(default_factory=dict)
    #: each fold model's P(default) of its own training rows (when the engine was asked)
    train_p: dict[str, dict[tuple[int, int], np.ndarray]] = field(default_factory=dict)


class _Fitted(NamedTuple):
    """What one fit task returns."""

    model: BaseEstimator
    p_test: np.ndarray  # P(default) of the held-out rows
    seconds: float
    search: Search | None  # the fold's search, with a tuning plan
    p_train: np.ndarray | None  # P(default) of the training rows, when asked for


def _fit_one(estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray, fold: Fold,
             plan: TuningPlan | None = None, fit_params: dict[str, Any] | None = None,
             score_rows: np.ndarray | None = None) -> _Fitted:
    """Fit a fresh clone on the training rows; score the held-out rows (one thread), and
    the rows ``score_rows`` too (the fold's training citizens, in the worker, beside the
    fit; a sampled model is fitted on part of them and scores them all).

    With a tuning ``plan`` the parameters are first searched on inner folds of the
    training rows alone (nested: the held-out rows never inform the choice)."""
    start = time.perf_counter()
    found = None
    with threadpool_limits(1):
        model = clone(estimator)
        X_train, y_train = X.iloc[fold.train], y[fold.train]
        if plan is not None:
            found = search(model, plan.space, X_train, y_train, budget=plan.budget,
                           inner_folds=plan.inner_folds, metric=plan.metric,
                           seed=seed_for(plan.seed, fold.repeat + 1, fold.fold + 1),
                           threshold=plan.threshold)
            model.set_params(**found.best_params)
        model.fit(X_train, y_train, **(fit_params or {}))
        p_test = (model.predict_proba(X.iloc[fold.test])[:, 1] if fold.test.size
                  else np.empty(0))
        seconds = time.perf_counter() - start
        p_train = (None if score_rows is None else
                   model.predict_proba(X.iloc[score_rows])[:, 1])
    return _Fitted(model, p_test, seconds, found, p_train)


def _fit_task(model: PreparedModel, fold: Fold, frame: pd.DataFrame, y: np.ndarray,
              models: list[PreparedModel], found: dict[tuple[str, int, int], Search],
              crossed: dict[tuple[int, int], dict[str, CrossFit]], train_scores: bool,
              sample: FitSample | None) -> Any:
    args = _fit_arguments(model, model_fold(model, fold, sample), frame, y, models, found)
    if _cross_fitting(model):
        on_fold = crossed.get((fold.repeat, fold.fold), {})
        own = (model.estimator.cross_fit_key(j, model.columns)
               for j in range(len(model.estimator.cross_fit_bases())))
        args = (*args, {"cross_fits": {k: on_fold[k] for k in own if k in on_fold}})
    return delayed(_fit_one)(*args, score_rows=fold.train if train_scores else None)


def _fits(models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
          folds: list[Fold], n_jobs: int, progress: Progress | None = None,
          train_scores: bool = False, sample: FitSample | None = None
          ) -> Iterator[tuple[PreparedModel, Fold, _Fitted]]:
    """(model, fold, what :func:`_fit_one` returned) of every model on every fold, in
    parallel, in two phases. First the families, with the parts of the hybrids'
    cross-fitting as tasks of their own (each part once, however many hybrids share it).
    Then the hybrids, given their cross-fits, and the ensembles, each given the searches
    the tuned families ran on its fold (so that a candidate equal to a family is not
    searched twice). ``progress`` counts every task of both phases. With ``sample``,
    each model is fitted on the training rows :meth:`FitSample.rows` gives it."""
    found: dict[tuple[str, int, int], Search] = {}
    late = [m for m in models if m.fold_seed is not None or _cross_fitting(m)]
    early = [m for m in models if m not in late]
    parts = _cross_fit_plan(late, early, y, folds, sample)
    tasks = [(m, f) for m in early for f in folds]
    total, done = len(tasks) + len(parts.tasks) + len(late) * len(folds), 0
    fitted: dict[tuple[str, int, int], Any] = {}
    calls = itertools.chain(  # made as joblib dispatches them (each holds its inputs)
        (_fit_task(m, f, frame, y, models, found, {}, train_scores, sample)
         for m, f in tasks),
        (delayed(_cross_fit_part)(t.model.estimator, t.index, frame[t.model.columns], y,
                                  t.fold, t.k) for t in parts.tasks))
    results = (Parallel(n_jobs=n_jobs, return_as="generator")(calls)
               if tasks or parts.tasks else [])
    for i, result in enumerate(results):
        done += 1
        if progress is not None:
            progress(done, total)
        if i >= len(tasks):
            parts.done(parts.tasks[i - len(tasks)], *result)
            continue
        model, fold = tasks[i]
        fitted[(model.name, fold.repeat, fold.fold)] = result.model
        if result.search is not None:
            found[(model.name, fold.repeat, fold.fold)] = result.search
        yield model, fold, result
    crossed = parts.cross_fits(fitted)
    parts.results.clear()  # assembled into ``crossed``
    tasks = [(m, f) for m in late for f in folds]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        _fit_task(m, f, frame, y, models, found, crossed, train_scores, sample)
        for m, f in tasks) if tasks else []
    for (model, fold), result in zip(tasks, results, strict=True):
        done += 1
        if progress is not None:
            progress(done, total)
        yield model, fold, result._replace(seconds=result.seconds + parts.seconds.get(
            (model.name, fold.repeat, fold.fold), 0.0))


def _cross_fitting(model: PreparedModel) -> bool:
    """Whether the engine cross-fits this model's bases for it (an untuned hybrid)."""
    return model.tuning is None and model.fold_seed is None and bool(
        getattr(model.estimator, "cross_fit_bases", list)())


def _cross_fit_part(estimator: BaseEstimator, index: int, X: pd.DataFrame, y: np.ndarray,
                    fold: Fold, k: int) -> tuple[Any, float]:
    """One part of a hybrid's cross-fitting on the fold's training rows (one thread)."""
    start = time.perf_counter()
    with threadpool_limits(1):
        part = clone(estimator).cross_fit_part(index, X.iloc[fold.train], y[fold.train], k)
    return part, time.perf_counter() - start


@dataclass(frozen=True)
class _PartTask:
    key: str
    model: PreparedModel  # the first hybrid that asks for this cross-fit
    index: int
    fold: Fold
    k: int  # inner fold, or -1 for the refit on every training row


@dataclass
class _CrossFitPlan:
    """The parts of the hybrids' cross-fitting, each once, and which family's fold
    model is a base's refit on every training row (same parameters, same inputs)."""

    tasks: list[_PartTask]
    counts: dict[tuple[str, int, int], int]  # (key, repeat, fold) -> inner folds
    refits: dict[tuple[str, int, int], str]  # (key, repeat, fold) -> family name
    results: dict[tuple[str, int, int, int], Any] = field(default_factory=dict)
    #: (hybrid, repeat, fold) -> seconds of the parts it asked for first
    seconds: dict[tuple[str, int, int], float] = field(default_factory=dict)

    def done(self, task: _PartTask, part: Any, seconds: float) -> None:
        self.results[(task.key, task.fold.repeat, task.fold.fold, task.k)] = part
        owner = (task.model.name, task.fold.repeat, task.fold.fold)
        self.seconds[owner] = self.seconds.get(owner, 0.0) + seconds

    def cross_fits(self, fitted: dict[tuple[str, int, int], Any]
                   ) -> dict[tuple[int, int], dict[str, CrossFit]]:
        """(repeat, fold) -> key -> the finished cross-fit."""
        out: dict[tuple[int, int], dict[str, CrossFit]] = {}
        for (key, repeat, fold), count in self.counts.items():
            parts = [self.results[(key, repeat, fold, k)] for k in range(count)]
            family = self.refits.get((key, repeat, fold))
            refit = (fitted[(family, repeat, fold)] if family is not None
                     else self.results[(key, repeat, fold, -1)])
            n_rows = sum(test.size for test, _ in parts)
            out.setdefault((repeat, fold), {})[key] = CrossFit.from_parts(n_rows, parts, refit)
        return out


def _cross_fit_plan(hybrids: list[PreparedModel], families: list[PreparedModel],
                    y: np.ndarray, folds: list[Fold], sample: FitSample | None = None
                    ) -> _CrossFitPlan:
    """Every part the cross-fitting hybrids need on every fold, each once (on the rows
    the hybrid is fitted on); a family's fold model is a base's refit only when the
    family was fitted on those same rows."""
    plain = {(estimator_identity(m.estimator), tuple(m.columns)): m for m in families
             if m.tuning is None and m.fold_seed is None
             and estimator_identity(m.estimator) is not None}
    plan = _CrossFitPlan([], {}, {})
    for model in filter(_cross_fitting, hybrids):
        estimator = model.estimator
        for index, base in enumerate(estimator.cross_fit_bases()):
            key = estimator.cross_fit_key(index, model.columns)
            if key is None:
                continue
            identity = estimator_identity(base)
            same = (plain.get((identity, tuple(model.columns))) if identity is not None
                    else None)
            for outer in folds:
                fold = model_fold(model, outer, sample)
                where = (key, fold.repeat, fold.fold)
                count = estimator.inner_fold_count(y[fold.train])
                if where in plan.counts or count == 0:
                    continue
                plan.counts[where] = count
                family = (same.name if same is not None and np.array_equal(
                    model_fold(same, outer, sample).train, fold.train) else None)
                if family is not None:
                    plan.refits[where] = family
                for k in ([*range(count)] if family is not None else [*range(count), -1]):
                    plan.tasks.append(_PartTask(key, model, index, fold, k))
    return plan


def _fit_arguments(model: PreparedModel, fold: Fold, frame: pd.DataFrame, y: np.ndarray,
                   models: list[PreparedModel], found: dict[tuple[str, int, int], Search]
                   ) -> tuple[Any, ...]:
    """The arguments of :func:`_fit_one` for ``model`` on ``fold``: an ensemble is
    seeded for the fold and given, under their keys, the searches already run on it."""
    X = frame[model.columns]
    if model.fold_seed is None:
        return model.estimator, X, y, fold, model.tuning
    seed = seed_for(model.fold_seed, fold.repeat + 1, fold.fold + 1)
    given = {}
    for other in models:
        done = found.get((other.name, fold.repeat, fold.fold))
        if done is not None and other.tuning is not None:
            plan = other.tuning
            key = search_key(other.estimator, plan.space, other.columns, fold.train.size,
                             budget=plan.budget, inner_folds=plan.inner_folds,
                             metric=plan.metric,
                             seed=seed_for(plan.seed, fold.repeat + 1, fold.fold + 1),
                             threshold=plan.threshold)
            if key is not None:
                given[key] = done
    return (clone(model.estimator).set_params(random_state=seed), X, y, fold, None,
            {"searches": given})


def fit_folds(models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
              folds: list[Fold], n_jobs: int = 1, progress: Progress | None = None,
              train_scores: bool = False, sample: FitSample | None = None) -> FoldResults:
    """Fit every model on every fold in parallel; keep the fold models and their scores
    (and, for a model with a tuning plan, each fold's search in ``searches``; with
    ``train_scores``, each fold model's scores of the fold's training rows in
    ``train_p``). With ``sample``, the sampled families train on part of a fold's
    training rows (:class:`FitSample`)."""
    repeats = max(f.repeat for f in folds) + 1
    out = FoldResults({m.name: np.full((repeats, y.size), np.nan) for m in models})
    for model, fold, fitted in _fits(models, frame, y, folds, n_jobs, progress,
                                     train_scores, sample):
        key = (fold.repeat, fold.fold)
        out.oof[model.name][fold.repeat, fold.test] = fitted.p_test
        out.fold_models.setdefault(model.name, {})[key] = fitted.model
        if fitted.search is not None:
            out.searches.setdefault(model.name, {})[key] = fitted.search
        if fitted.p_train is not None:
            out.train_p.setdefault(model.name, {})[key] = fitted.p_train
        out.fit_seconds[model.name] = out.fit_seconds.get(model.name, 0.0) + fitted.seconds
    return out


def fit_final(models: list[PreparedModel], frame: pd.DataFrame, y: np.ndarray,
              n_jobs: int = 1, sample: FitSample | None = None) -> dict[str, BaseEstimator]:
    """Each model refitted on every citizen (a sampled family on its seeded sample of
    them): the model that scores new applicants."""
    everyone = Fold(repeat=-1, fold=-1, train=np.arange(y.size), test=np.arange(0))
    fitted = {m.name: result.model for m, _, result in _fits(
        models, frame, y, [everyone], n_jobs, sample=sample)}
    return {m.name: fitted[m.name] for m in models}
