"""Hyper-parameter search with the same budget for every family, nested and seeded.

Why: untuned defaults favour whichever family happens to have good defaults, so a fair
comparison (Lessmann et al. 2015; Gunnarsson et al. 2021) tunes every family with the
same number of candidate configurations on inner cross-validation before comparing.

A family declares its search space next to its class, as the class attribute
``search_space``: parameter -> ``(low, high)`` or ``(low, high, "log")`` for a range
(whole numbers when both ends are integers) or a list of choices. A config may narrow or
move a range per model (``search_space: {num_leaves: {low: 4, high: 32}}``).

:func:`search` runs Optuna's TPE sampler, seeded, for exactly ``budget`` trials; each
trial is scored on the inner out-of-fold predictions of ``inner_folds`` seeded,
stratified folds of the rows it is given. The fold engine gives it an outer fold's
training rows only, so the outer test fold can never inform the choice (nested
cross-validation). The first trial is the model's own configuration, so a search
starts from the defaults it would otherwise be compared with. A configuration the
sampler proposes twice is scored once (the same folds and seed give the same
predictions) but still counts against the budget, so every family is charged the same
number of trials.

Every trial keeps its inner out-of-fold log-odds: they are the candidate library of the
ensemble selection (:mod:`scorelab.models.ensemble`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
import optuna
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold

from scorelab.core.messages import one_line
from scorelab.core.numeric import auc_rows, sigmoid
from scorelab.exceptions import ConfigError
from scorelab.models.base import check_params, estimator_identity
from scorelab.models.hybrid import inner_fold_number, log_odds_of

__all__ = ["METRICS", "Dimension", "Search", "SearchRange", "TuningPlan", "declared_space",
           "inner_splits", "resolve_space", "score_rows", "search", "search_key", "seed_for"]

#: Tuning metrics and whether a greater value is better.
METRICS = {"auc": True, "brier": False, "expected_cost": False}

optuna.logging.set_verbosity(optuna.logging.WARNING)


class SearchRange(BaseModel):
    """One searched parameter of a model, as a config gives it: a range or a list of
    choices (``models[].search_space``, a hybrid's ``spaces``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    low: int | float | None = Field(None, description="Smallest value tried.")
    high: int | float | None = Field(None, description="Largest value tried.")
    log: bool = Field(False, description="Search the range on a log scale.")
    choices: list[Any] | None = Field(None, min_length=1, description="Values tried "
                                      "(instead of low/high).")

    @model_validator(mode="after")
    def _one_form(self) -> SearchRange:
        if self.choices is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either choices or low/high, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high (or choices)")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0; got {self.low:g}")
        return self



@dataclass(frozen=True)
class Dimension:
    """One searched parameter: a range (``low``..``high``, maybe on a log scale, maybe
    whole numbers) or a list of ``choices``."""

    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple[Any, ...] | None = None

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        if self.choices is not None:
            return self.choices[trial.suggest_categorical(name, list(range(len(self.choices))))]
        if self.integer:
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(name, float(self.low), float(self.high), log=self.log)

    def start(self, value: Any) -> Any | None:
        """``value`` as the sampler reads it (a choice by its index), or None outside."""
        if self.choices is not None:
            return self.choices.index(value) if value in self.choices else None
        inside = isinstance(value, int | float) and self.low <= value <= self.high
        return value if inside and (not self.integer or float(value).is_integer()) else None

    def describe(self) -> dict[str, Any]:
        """The dimension as plain data (for the run directory)."""
        if self.choices is not None:
            return {"choices": [_plain(c) for c in self.choices]}
        return {"low": self.low, "high": self.high, "log": self.log, "integer": self.integer}


Space = dict[str, Dimension]


def _plain(value: Any) -> Any:
    """JSON-able: tuples as lists, numpy scalars as Python numbers."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _as_choice(value: Any) -> Any:
    """A choice as an estimator takes it (a YAML list of layer sizes is a tuple)."""
    return tuple(value) if isinstance(value, list) else value


def _dimension(value: Any) -> Dimension:
    """A declared dimension: ``(low, high[, "log"])`` or a list of choices; or, as a
    config writes it, ``{low, high, log}`` or ``{choices}``."""
    if isinstance(value, Mapping):
        if value.get("choices") is not None:
            return _dimension(list(value["choices"]))
        value = (value["low"], value["high"], *(["log"] if value.get("log") else []))
    if isinstance(value, list):
        return Dimension(choices=tuple(_as_choice(v) for v in value))
    low, high, *scale = value
    integer = isinstance(low, Integral) and isinstance(high, Integral)
    return Dimension(low, high, log=scale == ["log"], integer=integer)


def declared_space(estimator: Any, given: Mapping[str, Any] | None = None) -> Space:
    """The search space the estimator's class declares ({} when it has none), or the
    ``given`` one (same forms) instead."""
    declared = given if given is not None else \
        getattr(type(estimator), "search_space", None) or {}
    return {name: _dimension(value) for name, value in declared.items()}


def resolve_space(model: str, estimator: Any, override: Mapping[str, Any] | None,
                  where: str | None = None) -> Space:
    """The declared space with the config's per-model ``override`` applied and checked.

    ``override`` maps a declared parameter to ``{low, high, log}`` or ``{choices}``
    (a mapping or a :class:`SearchRange`); each end must be a value the family
    accepts (it is checked by building the family at that value). Every mistake is one
    line naming the model and the key.
    """
    space = declared_space(estimator)
    where = where or f"model '{model}': search_space"
    if override and not space:
        raise ConfigError(f"{where}: {type(estimator).__name__} declares no search space "
                          "(it is compared untuned); remove search_space")
    for name, given in (override or {}).items():
        if name not in space:
            raise ConfigError(f"{where}.{name}: not a searched parameter of "
                              f"{type(estimator).__name__} (searched: {', '.join(space)})")
        given = _search_range(f"{where}.{name}", given)
        get = given.__getattribute__
        choices = get("choices")
        if choices is not None:
            dim = Dimension(choices=tuple(_as_choice(c) for c in choices))
            ends = dim.choices
        else:
            low, high = get("low"), get("high")
            declared = space[name]
            if declared.choices is not None:
                raise ConfigError(f"{where}.{name}: the family searches a list of choices "
                                  "here; give {choices: [...]}, not low/high")
            if declared.integer and not all(float(v).is_integer() for v in (low, high)):
                raise ConfigError(f"{where}.{name}: {name} takes whole numbers; got low "
                                  f"{low!r}, high {high!r}")
            if declared.integer:
                low, high = int(low), int(high)
            dim = Dimension(low, high, log=bool(get("log")), integer=declared.integer)
            ends = (low, high)
        for value in ends:
            _check_value(where, name, estimator, value)
        space[name] = dim
    return space


def _search_range(where: str, given: Any) -> SearchRange:
    """``given`` as a validated :class:`SearchRange` (one-line error)."""
    if isinstance(given, SearchRange):
        return given
    try:
        return SearchRange.model_validate(given)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"] if exc.errors() else str(exc)
        raise ConfigError(f"{where}: {problem}; give {{low, high, log}} or {{choices: "
                          f"[...]}}, got {given!r}") from None


def _check_value(where: str, name: str, estimator: Any, value: Any) -> None:
    """The family accepts ``value`` for ``name`` (its own parameter checks, no data)."""
    candidate = clone(estimator).set_params(**{name: value})
    try:
        check_params(candidate)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}.{name}: {value!r} is not a valid value: "
                          f"{one_line(exc)}") from None


@dataclass(frozen=True)
class TuningPlan:
    """How one model is tuned in a study: its space, the shared budget, the metric.

    ``threshold`` is the P(default) above which the study's cut-off rejects (used by the
    expected-cost metric only).
    """

    space: Space
    budget: int
    inner_folds: int
    metric: str
    seed: int
    threshold: float | None = None

    def describe(self) -> dict[str, Any]:
        return {"budget": self.budget, "inner_folds": self.inner_folds, "metric": self.metric,
                "space": {k: d.describe() for k, d in self.space.items()}}


@dataclass
class Trial:
    """One evaluated configuration: its parameters, inner score and inner OOF log-odds."""

    number: int
    params: dict[str, Any]
    score: float
    log_odds: np.ndarray = field(repr=False)
    not_converged: int = 0  # inner fits stopped by their iteration limit


@dataclass
class Search:
    """The outcome of one search: every trial and the chosen one."""

    metric: str
    inner_folds: int
    trials: list[Trial]
    best: int

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.trials[self.best].params)

    @property
    def best_score(self) -> float:
        return self.trials[self.best].score

    def record(self) -> dict[str, Any]:
        """The search as plain data: chosen parameters, inner score and every trial."""
        return {"params": {k: _plain(v) for k, v in self.best_params.items()},
                "inner_score": self.best_score, "n_trials": len(self.trials),
                "trials": [{"params": {k: _plain(v) for k, v in t.params.items()},
                            "score": t.score, "not_converged": t.not_converged}
                           for t in self.trials]}


def seed_for(*keys: int) -> int:
    """A 31-bit seed derived from ``keys`` (the study seed, repeat, fold...)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0] >> 1)


def inner_splits(y01: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded, stratified, shuffled inner folds (fewer when a class is smaller than k)."""
    k = inner_fold_number(y01, k)
    if k == 0:
        raise ValueError("tuning: inner cross-validation needs at least 2 rows of each class")
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros((y01.size, 1)), y01))


def score_rows(log_odds: np.ndarray, y01: np.ndarray, metric: str,
               threshold: float | None = None) -> np.ndarray:
    """The metric of every row of ``log_odds`` (forecasts x citizens) against ``y01``.

    AUC by the Mann-Whitney rank sum (ties share their average rank, as in
    scikit-learn's ``roc_auc_score``); Brier score of the probabilities; expected cost
    of the decisions at ``threshold`` with a rejected non-defaulter costing 1 and an
    approved defaulter ``(1 - t) / t`` (the cut-off is the break-even of that cost).
    """
    z = np.atleast_2d(np.asarray(log_odds, dtype=float))
    y = np.asarray(y01, dtype=bool)
    if metric == "auc":
        return auc_rows(z, y)
    p = sigmoid(z)
    if metric == "brier":
        return np.mean((p - y) ** 2, axis=1)
    if metric == "expected_cost":
        if threshold is None or not 0.0 < threshold < 1.0:
            raise ValueError(f"expected_cost needs a threshold in (0, 1); got {threshold!r}")
        rejected = p > threshold
        cost_bad = (1.0 - threshold) / threshold
        return np.mean(np.where(y, ~rejected * cost_bad, rejected * 1.0), axis=1)
    raise ValueError(f"unknown tuning metric {metric!r}; valid: {', '.join(METRICS)}")


def _inner_log_odds(estimator: Any, X: Any, y01: np.ndarray,
                    splits: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Out-of-fold log-odds of ``estimator`` over the inner splits."""
    out = np.empty(y01.size, dtype=float)
    for train, test in splits:
        model = clone(estimator).fit(X.iloc[train], y01[train])
        out[test] = log_odds_of(model, X.iloc[test])
    return out


def search_key(estimator: Any, space: Space, columns: Sequence[str], n_rows: int, *,
               budget: int, inner_folds: int, metric: str, seed: int,
               threshold: float | None) -> str | None:
    """What makes two searches the same search (the same training rows given): the
    estimator's class and parameters, the space, the input columns and row count, the
    budget, the inner folds, the metric, the seed and the threshold. An ensemble reuses a
    family's search of the same fold under this key instead of running it again (same
    trials, same numbers). None for an estimator without an identity (never shared)."""
    identity = estimator_identity(estimator)
    if identity is None:
        return None
    return repr((identity,
                 sorted((k, d.describe()) for k, d in space.items()), list(columns),
                 int(n_rows), int(budget), int(inner_folds), metric, int(seed), threshold))


def search(estimator: Any, space: Space, X: Any, y01: np.ndarray, *, budget: int,
           inner_folds: int, metric: str, seed: int, threshold: float | None = None,
           splits: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> Search:
    """``budget`` trials of a seeded TPE search over ``space`` on inner folds of (X, y).

    The first trial is the estimator's own configuration (its parameters that lie inside
    the space; the others sampled), so a search is never blind to the defaults a family
    was given: tuning can only choose something else by beating them on inner folds.

    With an empty space the search is the one default configuration (one trial).
    ``splits`` (inner train/test positions) default to :func:`inner_splits` of ``seed``.
    """
    y01 = np.asarray(y01, dtype=np.int64)
    splits = list(splits) if splits is not None else inner_splits(y01, inner_folds, seed)
    greater = METRICS[metric]
    seen: dict[str, tuple[float, np.ndarray, int]] = {}
    trials: list[Trial] = []

    def objective(trial: optuna.Trial) -> float:
        params = {name: dim.suggest(trial, name) for name, dim in space.items()}
        key = repr(sorted(params.items()))
        if key not in seen:
            # a candidate whose fits stop at their iteration limit is scored as it is and
            # recorded as such, not announced once per inner fit of every trial
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                z = _inner_log_odds(clone(estimator).set_params(**params), X, y01, splits)
            for w in caught:
                if not issubclass(w.category, ConvergenceWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            stopped = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
            seen[key] = (float(score_rows(z, y01, metric, threshold)[0]), z, stopped)
        score, z, stopped = seen[key]
        trials.append(Trial(trial.number, params, score, z, stopped))
        return score

    if not space:
        objective(optuna.trial.FixedTrial({}))
    else:
        study = optuna.create_study(direction="maximize" if greater else "minimize",
                                    sampler=optuna.samplers.TPESampler(seed=seed))
        current = estimator.get_params(deep=False)
        start = {name: dim.start(_as_choice(current.get(name))) for name, dim in space.items()}
        study.enqueue_trial({k: v for k, v in start.items() if v is not None})
        study.optimize(objective, n_trials=int(budget))
    scores = np.array([t.score for t in trials])
    finite = np.where(np.isfinite(scores), scores, -math.inf if greater else math.inf)
    best = int(np.argmax(finite) if greater else np.argmin(finite))
    return Search(metric, len(splits), trials, best)



def plan_for(model: str, estimator: Any, tuning: Any, override: Mapping[str, Any] | None,
             seed: int, threshold: float | None) -> TuningPlan | None:
    """The tuning plan of one model of a study (None: the family has no search space,
    so it is compared with its fixed parameters).

    ``tuning`` is the config's ``evaluation.tuning`` section (budget, inner_folds,
    metric); ``override`` the model's ``search_space``.
    """
    space = resolve_space(model, estimator, override)
    if not space:
        return None
    return TuningPlan(space, tuning.budget, tuning.inner_folds, tuning.metric, seed,
                      threshold)


def tune_ensemble(estimator: Any, tuning: Any, given: Mapping[str, Any],
                  threshold: float | None) -> None:
    """An ensemble-selection model tunes its candidates with the study's budget, inner
    folds and metric (unless its own params set them)."""
    own = {"budget": tuning.budget, "inner_folds": tuning.inner_folds,
           "metric": tuning.metric, "threshold": threshold}
    estimator.set_params(**{k: v for k, v in own.items()
                            if k not in given and k in estimator.get_params(deep=False)})


def tuning_report(models: Sequence[Any], fits: Any, tuning: Any) -> dict[str, Any] | None:
    """What was tuned and how (tuning.json): per model its status, budget, space and the
    parameters chosen on every outer fold; an ensemble's members and weights per fold.

    ``models`` are the study's prepared models, ``fits`` its fold results and ``tuning``
    the config's ``evaluation.tuning`` (None: untuned study). None when there is nothing
    to report (no tuning and no ensemble).
    """
    out: dict[str, Any] = {}
    for model in models:
        folds = fits.fold_models.get(model.name, {})
        if model.tuning is not None:
            out[model.name] = {
                "status": "tuned", "reason": None, **model.tuning.describe(),
                "folds": [{"repeat": r, "fold": f, **found.record()}
                          for (r, f), found in sorted(fits.searches[model.name].items())]}
        elif model.kind == "hces_bag" and folds:  # (other families have weights_ too)
            first = next(iter(folds.values()))
            out[model.name] = {
                "status": "ensemble", "reason": None, "budget": first.budget,
                "inner_folds": first.inner_folds, "metric": first.metric,
                "folds": [_ensemble_record(r, f, m) for (r, f), m in sorted(folds.items())]}
        else:
            out[model.name] = {"status": "untuned", "reason": _untuned_reason(model, tuning)}
    if tuning is None and not any(v["status"] == "ensemble" for v in out.values()):
        return None
    return {"enabled": tuning is not None,
            "budget": None if tuning is None else tuning.budget,
            "inner_folds": None if tuning is None else tuning.inner_folds,
            "metric": None if tuning is None else tuning.metric,
            "sampler": f"optuna {optuna.__version__} TPESampler, seeded per fold",
            "models": out}


def _untuned_reason(model: Any, tuning: Any) -> str:
    if tuning is None:
        return "evaluation.tuning is not set: fixed parameters"
    if model.spec.family == "mitigation":
        return "a fairness variant of its base model: not searched"
    return f"{model.spec.family}/{model.kind} declares no search space: fixed parameters"


def _ensemble_record(repeat: int, fold: int, model: Any) -> dict[str, Any]:
    return {"repeat": repeat, "fold": fold,
            "members": [{**m, "params": {k: _plain(v) for k, v in m["params"].items()}}
                        for m in model.members_],
            "inner_score": model.inner_score_,
            "best_single_inner_score": model.best_inner_score_,
            "trials": {name: s["n_trials"] for name, s in model.searches_.items()}}
