"""The protocol every family shares: prepared models, their inputs and the fold engine.

A study prepares each configured model (an unfitted estimator and its input columns),
fits a fresh clone on every training fold and scores the held-out citizens. The fitted
fold models are kept: the explanation and fairness stages use the very model that held
a citizen out (so a score and its explanation always agree), and the run directory
saves them so that anyone can be scored or explained later.

This module sits below every stage (models, evaluate, explain, fairness) and above
config and data; it imports none of the stages but the model registry.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import RepeatedStratifiedKFold
from threadpoolctl import threadpool_limits

from scorelab.config import ExperimentConfig, ModelSpec, age_attribute
from scorelab.data.schema import Schema
from scorelab.exceptions import ConfigError, DataError
from scorelab.models.base import estimator_identity
from scorelab.models.hybrid import CrossFit
from scorelab.models.logit import LogitScorecard
from scorelab.models.registry import DEFAULT_KIND, build_model
from scorelab.models.trees import LightGBMFamily, RandomForestFamily
from scorelab.models.tuning import (
    Search,
    TuningPlan,
    plan_for,
    search,
    search_key,
    seed_for,
    tune_ensemble,
)
from scorelab.scale import scale_from_config

__all__ = ["FitSample", "Fold", "FoldResults", "PreparedModel", "Progress", "audit_sample",
           "check_rule_values", "fit_final", "fit_folds", "fold_of", "make_folds",
           "mitigation_sensitive", "model_inputs", "prepare_models", "skip_reason",
           "training_note", "training_sample", "trains_on_every_row", "tuning_threshold",
           "validate_models"]

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]

#: Roles a model plays in a study: an original family, an ablation (the same family with
#: features dropped) or a fairness-mitigation variant.
ROLES = ("original", "ablation", "mitigation")


@dataclass(frozen=True)
class Fold:
    """One train/test split: which repeat and fold it is, and the row positions."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class FitSample:
    """``compute.sample_size``: the families that gain little from more rows (every
    family but the tree ensembles that train on the log-odds: scorecard binning, MLP,
    expert calibrators, hybrids, mitigation variants, the calibrated forest) train on a
    seeded sample of at most ``size`` of a fold's training citizens
    (:func:`training_sample`); they still score every held-out citizen."""

    size: int
    seed: int

    @classmethod
    def of(cls, config: ExperimentConfig) -> FitSample | None:
        size = config.compute.sample_size
        return None if size is None else cls(int(size), int(config.seed))

    def drawn(self, fold: Fold) -> np.ndarray:
        """The seeded sample of ``fold``'s training positions (all up to ``size``)."""
        return training_sample(fold.train, self.size, self.seed, fold.repeat, fold.fold)

    def rows(self, estimator: BaseEstimator, fold: Fold) -> np.ndarray:
        """The training positions ``estimator`` is fitted on for ``fold``."""
        return fold.train if trains_on_every_row(estimator) else self.drawn(fold)


def trains_on_every_row(estimator: BaseEstimator) -> bool:
    """Whether a model trains on every training citizen whatever ``compute.sample_size``
    (LightGBM, and the forest without its inner cross-fitted calibration: their raw
    score is the log-odds, they gain from every row and ``lightgbm.dask`` can train
    them on a cluster)."""
    return type(estimator) is LightGBMFamily or (
        type(estimator) is RandomForestFamily and not estimator.get_params()["calibrate"])


def training_sample(train: np.ndarray, size: int, seed: int, repeat: int,
                    fold: int) -> np.ndarray:
    """The fold's training positions a sampled family trains on: all of them up to
    ``size``, else ``size`` drawn without replacement by the seeded generator ``(seed, 6,
    repeat, fold)`` (sorted, so the sample is in citizen order)."""
    if train.size <= size:
        return train
    rng = np.random.default_rng([seed, 6, repeat + 1, fold + 1])
    return np.sort(rng.choice(train, size=size, replace=False))


def training_note(estimator: BaseEstimator, sample: FitSample | None) -> str:
    """How a model was trained, in words, for the run's study.json and report."""
    if sample is None or trains_on_every_row(estimator):
        return "every training citizen of each fit"
    return (f"sample: a seeded sample of at most {sample.size:,} training citizens per "
            "fit; scores every held-out citizen")


def _model_fold(model: PreparedModel, fold: Fold, sample: FitSample | None) -> Fold:
    """``fold`` with the training rows ``model`` is fitted on."""
    if sample is None:
        return fold
    rows = sample.rows(model.estimator, fold)
    return fold if rows is fold.train else Fold(fold.repeat, fold.fold, rows, fold.test)


def make_folds(y: np.ndarray, folds: int, repeats: int, seed: int) -> list[Fold]:
    """Stratified folds over ``y`` (0/1); every citizen is tested once per repeat."""
    y = np.asarray(y)
    values, counts = np.unique(y, return_counts=True)
    if values.size < 2:
        raise DataError(f"the population has one class only ({values.tolist()}): "
                        "a scoring model needs both defaulters and non-defaulters")
    if folds > counts.min():
        label = "defaulters" if values[np.argmin(counts)] == 1 else "non-defaulters"
        raise ConfigError(f"evaluation.folds={folds} is larger than the {counts.min()} "
                          f"{label} in the population; use at most {counts.min()} folds "
                          "or more citizens")
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    out = []
    for i, (train, test) in enumerate(splitter.split(np.zeros(y.size), y)):
        out.append(Fold(repeat=i // folds, fold=i % folds, train=train, test=test))
    return out


@dataclass
class PreparedModel:
    """A model of the study: its spec, an unfitted estimator and its input columns."""

    spec: ModelSpec
    estimator: BaseEstimator
    columns: list[str]
    tuning: TuningPlan | None = None  # searched on each training fold (evaluation.tuning)
    #: An ensemble selection in a tuned study: seeded on each fold as the families'
    #: searches are (from this study seed), so that it reuses their searches of that fold.
    fold_seed: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind or DEFAULT_KIND[self.spec.family]

    @property
    def role(self) -> str:
        """original, ablation (features dropped) or mitigation (a fairness variant)."""
        if self.spec.family == "mitigation":
            return "mitigation"
        return "ablation" if self.spec.drop_features else "original"


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


def model_inputs(schema: Schema, spec: ModelSpec, age_column: str | None = "age"
                 ) -> list[str]:
    """Feature columns, less ``drop_features``, plus the protected/prohibited columns the
    spec explicitly allows (``use_protected``). Truth columns are never inputs.

    ``age_column`` is the population's age attribute: a mitigation variant's default
    sensitive column."""
    allowed = set(schema.with_role("protected", "prohibited"))
    features = schema.with_role("feature")
    for name in spec.use_protected:
        if name not in allowed:
            raise ConfigError(f"model '{spec.name}': use_protected: '{name}' is not a protected "
                              f"or prohibited column (valid: {', '.join(sorted(allowed))})")
    for name in spec.drop_features:
        if name not in features:
            raise ConfigError(f"model '{spec.name}': drop_features: '{name}' is not a feature "
                              f"column (valid: {', '.join(features)})")
    if spec.family == "mitigation":
        sensitive = mitigation_sensitive(spec, age_column)
        if sensitive not in spec.use_protected:
            raise ConfigError(f"model '{spec.name}': a mitigation variant needs its sensitive "
                              f"attribute as an input: list '{sensitive}' in its use_protected")
    kept = [c for c in features if c not in spec.drop_features]
    return kept + [c for c in spec.use_protected if c not in kept]


def mitigation_sensitive(spec: ModelSpec, age_column: str | None) -> str:
    """The column a mitigation variant equalises: ``params.sensitive``, else the age
    attribute (a table without one must name it)."""
    if "sensitive" in spec.params:
        return str(spec.params["sensitive"])
    if age_column is None:
        raise ConfigError(f"model '{spec.name}': the population has no age attribute, so "
                          "a mitigation variant needs params.sensitive (a protected column "
                          "it also lists in use_protected); or declare one population."
                          "protected column as age")
    return age_column


def validate_models(config: ExperimentConfig) -> None:
    """Reject a bad model list (none, repeated names, bad family/kind/params) before work."""
    if not config.models:
        raise ConfigError("models: the config lists no models; add at least one "
                          "(see configs/default.yaml)")
    names = [m.name for m in config.models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"models: names must be unique; repeated: {', '.join(duplicates)}")
    age_column = age_attribute(config)
    threshold = tuning_threshold(config)
    for spec in config.models:
        estimator = build_model(spec)
        _tuning_plan(config, spec, estimator, threshold)
        if spec.family == "mitigation":
            sensitive = mitigation_sensitive(spec, age_column)
            if sensitive not in spec.use_protected:
                raise ConfigError(f"model '{spec.name}': a mitigation variant needs its "
                                  f"sensitive attribute as an input: list '{sensitive}' in "
                                  "its use_protected")


def tuning_threshold(config: ExperimentConfig) -> float | None:
    """The P(default) above which the expected-cost metric rejects: the cost-minimising
    cut-off of ``decision.costs``, else the cut-off score as the costs' break-even.

    None when tuning does not optimise expected cost."""
    tuning = config.evaluation.tuning
    if tuning is None or tuning.metric != "expected_cost":
        return None
    costs = getattr(config.decision, "costs", None)
    if costs is not None:
        return costs.false_reject / (costs.false_accept + costs.false_reject)
    if config.decision.cutoff_score is None:
        raise ConfigError("evaluation.tuning.metric: expected_cost needs decision.costs "
                          "(e.g. {false_accept: 5, false_reject: 1}) or a "
                          "decision.cutoff_score (its break-even); or use auc or brier")
    scale = scale_from_config(config.scale)
    return float(scale.probability(config.decision.cutoff_score))


def _tuning_plan(config: ExperimentConfig, spec: ModelSpec, estimator: BaseEstimator,
                 threshold: float | None) -> TuningPlan | None:
    """How ``spec`` is tuned (None: not searched); an ensemble gets the study's budget."""
    tuning = config.evaluation.tuning
    if tuning is None:
        if spec.search_space:
            raise ConfigError(f"model '{spec.name}': search_space is given but "
                              "evaluation.tuning is not set; add evaluation.tuning: "
                              "{budget: N} or remove search_space")
        return None
    if "budget" in estimator.get_params(deep=False):  # ensemble selection tunes inside
        if spec.search_space:
            raise ConfigError(f"model '{spec.name}': search_space does not apply to an "
                              "ensemble (its candidates are tuned with evaluation.tuning; "
                              "params.spaces sets a candidate's space)")
        tune_ensemble(estimator, tuning, spec.params, threshold)
        return None
    if spec.family == "mitigation":
        return None
    overrides = {k: v.model_dump() for k, v in (spec.search_space or {}).items()}
    return plan_for(spec.name, estimator, tuning, overrides, config.seed, threshold)


def _rule_tables(spec: ModelSpec) -> list[tuple[str, dict[str, Any]]]:
    """(config key, rules) of every Suining rule table a spec gives (also inside a hybrid)."""
    kind = spec.kind or DEFAULT_KIND[spec.family]
    if (spec.family, kind) == ("expert", "suining") and isinstance(spec.params.get("rules"),
                                                                    Mapping):
        return [("params.rules", dict(spec.params["rules"]))]
    expert = spec.params.get("expert")
    if (spec.family, kind) == ("hybrid", "expert_boost") and isinstance(expert, Mapping):
        inner = expert.get("params") or {}
        if expert.get("kind", "suining") == "suining" and isinstance(inner.get("rules"),
                                                                     Mapping):
            return [("params.expert.params.rules", dict(inner["rules"]))]
    return []


def _shown(values: list[str]) -> str:
    return ", ".join(values[:12]) + (f", ... ({len(values) - 12} more)" if len(values) > 12
                                     else "")


def check_rule_values(config: ExperimentConfig, frame: pd.DataFrame, schema: Schema) -> None:
    """Every column of a given rule table is an input of its model, and every value it
    lists occurs in that column: a rule that can never fire is a typo (or a YAML 1.1
    ``yes`` read as true), found before any fitting."""
    age_column = age_attribute(config)
    for spec in config.models:
        tables = _rule_tables(spec)
        if not tables:
            continue
        inputs = model_inputs(schema, spec, age_column)
        for key, rules in tables:
            for column, rule in rules.items():
                where = f"model '{spec.name}': {key}.{column}"
                if column not in inputs:
                    raise ConfigError(f"{where}: '{column}' is not an input of this model "
                                      f"(inputs: {_shown(inputs)})")
                if isinstance(rule, Mapping):
                    _check_rule_keys(where, frame[column], list(rule))


def _check_rule_keys(where: str, column: pd.Series, keys: list[Any]) -> None:
    """Rule keys match as the expert matches them: text for categories, numbers else."""
    known = column.dropna()
    if isinstance(column.dtype, pd.CategoricalDtype) or not \
            pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        values = sorted({str(v) for v in known.unique()})
        unmatched = [k for k in keys if str(k) not in values]
    else:
        values = [f"{v:g}" for v in sorted(known.unique())]
        numbers = set(known.astype(float))

        def as_number(k: Any) -> float | None:
            try:
                return None if isinstance(k, bool) else float(k)
            except (TypeError, ValueError):
                return None
        unmatched = [k for k in keys if as_number(k) not in numbers]
    if unmatched:
        raise ConfigError(f"{where}: {unmatched[0]!r} is not a value of column "
                          f"'{column.name}', so the rule never fires (its values: "
                          f"{_shown(values)})")


_RULE_PARAMS = {("expert", "suining"): "rules", ("expert", "sesame"): "factors",
                ("hybrid", "expert_boost"): "expert"}


def skip_reason(spec: ModelSpec, real_table: bool) -> str | None:
    """Why a model cannot run on this population, or None.

    Expert rules (and the hybrid built on them) are written for the synthetic
    population's columns; on a real table they need a rule table over its own columns.
    """
    key = (spec.family, spec.kind or DEFAULT_KIND[spec.family])
    if real_table and key in _RULE_PARAMS and _RULE_PARAMS[key] not in spec.params:
        return (f"skipped: expert rules are written for the synthetic population; give "
                f"params.{_RULE_PARAMS[key]} over this table's columns to run it")
    return None


def prepare_models(config: ExperimentConfig, schema: Schema,
                   real_table: bool = False) -> tuple[list[PreparedModel], dict[str, str]]:
    """Build every runnable estimator with its input columns; say why others are skipped."""
    validate_models(config)
    scale = scale_from_config(config.scale)
    age_column = age_attribute(config)
    threshold = tuning_threshold(config)
    models, skipped = [], {}
    for spec in config.models:
        reason = skip_reason(spec, real_table)
        if reason is not None:
            skipped[spec.name] = reason
            continue
        estimator = build_model(spec)
        if spec.family == "mitigation":  # equalise the population's own age column
            own_m = {"sensitive": mitigation_sensitive(spec, age_column),
                     "protected": tuple(schema.with_role("protected"))}
            estimator.set_params(**{k: v for k, v in own_m.items() if k not in spec.params})
        if isinstance(estimator, LogitScorecard):  # its points table on the run's scale
            own = {"pdo": scale.pdo, "odds": scale.base_odds, "base_points": scale.base_score}
            estimator.set_params(**{k: v for k, v in own.items() if k not in spec.params})
        ensemble = config.evaluation.tuning is not None and \
            "budget" in estimator.get_params(deep=False)
        models.append(PreparedModel(spec, estimator, model_inputs(schema, spec, age_column),
                                    _tuning_plan(config, spec, estimator, threshold),
                                    config.seed if ensemble else None))
    if not models:
        raise ConfigError("models: every model was skipped on this population ("
                          + "; ".join(f"{k}: {v}" for k, v in skipped.items()) + ")")
    return models, skipped


def audit_sample(n: int, size: int, seed: int) -> np.ndarray:
    """Positions of the audit sample: a seeded order's first ``size`` citizens.

    Every family explains the same citizens; a smaller sample (the agnostic explainer's)
    is the first part of the same order, so the samples are nested.
    """
    order = np.random.default_rng([seed, 4]).permutation(n)
    return np.sort(order[:min(size, n)])


def fold_of(folds: list[Fold], n: int, repeat: int = 0) -> np.ndarray:
    """The fold that held each citizen out in ``repeat`` (an int array over citizens)."""
    out = np.full(n, -1, dtype=np.int64)
    for f in folds:
        if f.repeat == repeat:
            out[f.test] = f.fold
    return out


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
    import time

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
    args = _fit_arguments(model, _model_fold(model, fold, sample), frame, y, models, found)
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
    import time

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
                fold = _model_fold(model, outer, sample)
                where = (key, fold.repeat, fold.fold)
                count = estimator.inner_fold_count(y[fold.train])
                if where in plan.counts or count == 0:
                    continue
                plan.counts[where] = count
                family = (same.name if same is not None and np.array_equal(
                    _model_fold(same, outer, sample).train, fold.train) else None)
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
