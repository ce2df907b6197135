"""Hybrid families: combinations of the other families, fitted without leakage.

* :class:`YimMitchellHybrid` (Yim & Mitchell 2005): a logit scorecard's log-odds become
  an extra input of a multilayer perceptron beside the raw features. On the training
  rows the network sees *out-of-fold* first-stage log-odds (inner stratified K-fold
  cross-fitting), never in-sample ones; at prediction time the first stage refitted on
  all training rows supplies them.
* :class:`ExpertBoostHybrid`: rules + gradient boosting. The expert's raw points (a
  fixed function of the features, no labels involved) are an extra LightGBM feature.
* :class:`StackingHybrid`: stacking of base families; a logistic regression on the
  base models' out-of-fold log-odds (inner K-fold, as scikit-learn's
  ``StackingClassifier`` with ``cv=inner_folds``), base models refitted on all rows.

Inner models on large data (``inner_max_rows``, default 20,000): an inner fold model is
fitted on at most that many of its training rows, a stratified sample drawn with
``numpy.random.default_rng([random_state, k])`` for inner fold ``k`` (each class keeps
its share, rounded), and still predicts every row it holds out; the models refitted on
all rows are never subsampled. Below the limit nothing changes (the default study's
12,800 inner training rows, 4/5 of 16,000, are all used); above it the inner fits cost
``inner_folds`` fits of ``inner_max_rows`` rows instead of growing with the data. The
inner models only set the meta-learner's inputs: on the default study at 100,000
citizens (one outer fold, 64,000 inner training rows) the stacking's held-out AUC was
0.8029 with a limit of 20,000 and 0.8028 with 50,000, in 40 s instead of 75 s.
``None`` switches the rule off.

Shared cross-fitting: a base's cross-fitting is split into parts (one per inner fold,
and the refit on all rows) that :meth:`_HybridBase.cross_fit_part` computes one at a
time; ``fit(X, y, cross_fits=...)`` takes finished ones under their
:meth:`~_HybridBase.cross_fit_key`. The study's fold engine runs each part once for every
hybrid that asks for it (Yim & Mitchell's first stage is the stacking's logit base) and
takes the refit on all rows from a family fitted on the same rows with the same
parameters, so nothing is fitted twice and no number changes.

Seeds: ``random_state`` seeds the inner folds. Components built by default get the
hybrid's ``random_state``; a component passed in gets it only when its own
``random_state`` is None (so an explicit seed is kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import check_is_fitted

from scorelab.core.numeric import logit, sigmoid
from scorelab.models.base import (
    LARGE_TABLE,
    Explainer,
    ScorelabClassifier,
    check_params,
    estimator_identity,
)
from scorelab.models.expert import SuiningPoints
from scorelab.models.logit import LogitScorecard
from scorelab.models.neural import MLPFamily
from scorelab.models.trees import LightGBMFamily, TabularInputMixin, _check_param, booster_size

__all__ = ["CrossFit", "ExpertBoostHybrid", "StackingHybrid", "YimMitchellHybrid",
           "inner_fold_number", "log_odds_of"]


def log_odds_of(estimator: Any, X: Any) -> np.ndarray:
    """Log-odds of class 1 from a fitted binary classifier.

    ``decision_function`` when the estimator has one (for the scorelab families and
    logistic models it is the log-odds), else the logit of ``predict_proba[:, 1]``.
    """
    if hasattr(estimator, "decision_function"):
        d = np.asarray(estimator.decision_function(X), dtype=float)
        if d.ndim == 2:
            d = d[:, -1] - d[:, 0] if d.shape[1] == 2 else d.ravel()
        return d
    if hasattr(estimator, "predict_proba"):
        return logit(np.asarray(estimator.predict_proba(X), dtype=float)[:, 1])
    raise TypeError(f"{type(estimator).__name__} has neither decision_function nor "
                    "predict_proba; it cannot be a stage of a hybrid")


def _seeded(estimator: Any, random_state: Any, default: bool) -> Any:
    """A clone of ``estimator`` with ``random_state`` set (always if ``default``)."""
    est = clone(estimator)
    params = est.get_params(deep=False)
    if "random_state" in params and (default or params["random_state"] is None):
        est.set_params(random_state=random_state)
    return est


def inner_fold_number(y: Any, n_splits: int) -> int:
    """How many stratified inner folds two-class labels ``y`` allow: ``n_splits``, fewer
    when a class has fewer rows; 0 when a class has fewer than 2 rows or is absent."""
    _, counts = np.unique(np.asarray(y), return_counts=True)
    k = min(int(n_splits), int(counts.min())) if counts.size == 2 else 0
    return k if k >= 2 else 0


def _inner_splits(y01: np.ndarray, n_splits: int, random_state: Any, owner: str
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, shuffled, seeded inner folds (fewer if a class is too small)."""
    k = inner_fold_number(y01, n_splits)
    if k == 0:
        smallest = int(np.bincount(y01, minlength=2).min())
        raise ValueError(f"{owner}: inner cross-fitting needs at least 2 rows of each class; "
                         f"the smallest class has {smallest}")
    seed = random_state
    if not (random_state is None or isinstance(random_state, Integral)):
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros((y01.size, 1)), y01))


#: Default ``inner_max_rows`` of the cross-fitted hybrids (see the module docstring).
INNER_MAX_ROWS = 20_000


def _inner_fit_rows(train: np.ndarray, y01: np.ndarray, max_rows: int | None,
                    random_state: Any, k: int) -> np.ndarray:
    """The rows inner fold ``k``'s model is fitted on: all of ``train`` up to
    ``max_rows``, else a seeded stratified sample of ``max_rows`` of them (sorted)."""
    if max_rows is None or train.size <= max_rows:
        return train
    seed = random_state if isinstance(random_state, Integral) else 0
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, k])
    labels = y01[train]
    picked = []
    for c in (0, 1):
        rows = train[labels == c]
        picked.append(rng.choice(rows, size=round(max_rows * rows.size / train.size),
                                 replace=False))
    return np.sort(np.concatenate(picked))


@dataclass(frozen=True)
class CrossFit:
    """One base cross-fitted on a hybrid's training rows."""

    oof: np.ndarray  #: each row's log-odds from the inner model that held it out
    fold: np.ndarray  #: the inner fold that held each row out
    fitted: Any  #: the base refitted on every row (it scores at prediction time)

    @classmethod
    def from_parts(cls, n_rows: int, parts: list[tuple[np.ndarray, np.ndarray]],
                   fitted: Any) -> CrossFit:
        """Assemble inner fold k's (held-out rows, their log-odds), k = 0, 1, ..."""
        oof = np.empty(n_rows, dtype=float)
        fold = np.empty(n_rows, dtype=np.int64)
        for k, (test, log_odds) in enumerate(parts):
            oof[test] = log_odds
            fold[test] = k
        return cls(oof, fold, fitted)


def _inner_part(base: Any, frame: pd.DataFrame, y01: np.ndarray,
                splits: list[tuple[np.ndarray, np.ndarray]], max_rows: int | None,
                random_state: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inner fold ``k``: its model fitted on the other folds' rows (sampled above
    ``max_rows``) and the log-odds of the rows it holds out."""
    train, test = splits[k]
    rows = _inner_fit_rows(train, y01, max_rows, random_state, k)
    inner = clone(base).fit(frame.iloc[rows], y01[rows])
    return test, log_odds_of(inner, frame.iloc[test])


def _free_name(base: str, columns: list[str]) -> str:
    name = base
    while name in columns:
        name = f"{name}_"
    return name


class _HybridBase(TabularInputMixin, ScorelabClassifier):
    family: ClassVar[str] = "hybrid"
    #: The hybrids' own parameters bounded; their components' are their families'.
    param_maxima: ClassVar[Mapping[str, int]] = {
        **ScorelabClassifier.param_maxima, "inner_folds": 100}

    def _components(self) -> list[Any]:
        """The components given as parameters (None = the default, which allows NaN)."""
        return []

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        # NaN is allowed when every component given allows it (the defaults all do).
        tags.input_tags.allow_nan = all(
            get_tags(c).input_tags.allow_nan for c in self._components() if c is not None)
        return tags

    @classmethod
    def sized_params(cls, n_rows: int) -> dict[str, Any]:
        """From :data:`~scorelab.models.base.LARGE_TABLE` rows, 3 inner folds of at most
        10,000 rows each: the inner models only set the second stage's inputs, and on a
        150,000-row table (fits on 50,000) the stacking's held-out AUC was 0.829 with
        5 inner folds of 20,000 rows and 0.829 with these, in two thirds of the time."""
        sized = {"inner_folds": 3, "inner_max_rows": 10_000} if n_rows >= LARGE_TABLE else {}
        own = cls._get_param_names()  # a hybrid without a row limit takes the folds only
        return {k: v for k, v in sized.items() if k in own}

    def _check_inner_folds(self) -> None:
        _check_param("inner_folds", self.inner_folds, Integral, 2, owner=type(self).__name__)
        limit = getattr(self, "inner_max_rows", None)
        if limit is not None:
            _check_param("inner_max_rows", limit, Integral, 2, owner=type(self).__name__)

    # ----- cross-fitting, in parts that can be shared (see the module docstring)
    def cross_fit_bases(self) -> list[Any]:
        """The (seeded) base estimators this hybrid cross-fits, in order."""
        return []

    def cross_fit_key(self, index: int, columns: list[str]) -> str | None:
        """What makes base ``index``'s cross-fitting on inputs ``columns`` the same as
        another's on the same training rows: the base's identity, the columns, the inner
        folds, their seed and the row limit. None when the inner folds are not seeded by
        an integer (they would differ at every draw) or the base has no identity
        (:func:`~scorelab.models.base.estimator_identity`)."""
        identity = estimator_identity(self.cross_fit_bases()[index])
        if not isinstance(self.random_state, Integral) or identity is None:
            return None
        return repr((identity, list(columns),
                     int(self.inner_folds), int(self.random_state), self.inner_max_rows))

    def inner_fold_count(self, y: Any) -> int:
        """How many inner folds the cross-fitting of training labels ``y`` has (0 when a
        class has fewer than 2 rows: ``fit`` refuses such labels)."""
        return inner_fold_number(y, self.inner_folds)

    def cross_fit_part(self, index: int, X: Any, y: Any, k: int) -> Any:
        """Part ``k`` of base ``index``'s cross-fitting on (X, y): inner fold ``k``'s
        (held-out rows, their log-odds), or for ``k = -1`` the base fitted on every row.
        Exactly what ``fit`` computes itself, one part at a time."""
        frame, y01, _ = self._validate_fit(X, y)
        base = self.cross_fit_bases()[index]
        if k < 0:
            return clone(base).fit(frame, y01)
        splits = _inner_splits(y01, self.inner_folds, self.random_state, type(self).__name__)
        return _inner_part(base, frame, y01, splits, self.inner_max_rows,
                           self.random_state, k)

    def _cross_fits(self, frame: pd.DataFrame, y01: np.ndarray,
                    given: Mapping[str, CrossFit] | None) -> list[CrossFit]:
        """Every base cross-fitted on (frame, y01): taken from ``given`` under its key
        when there, else computed here (the inner folds drawn once for all bases)."""
        given = given or {}
        bases, out = self.cross_fit_bases(), []
        splits = None
        for j, base in enumerate(bases):
            done = given.get(self.cross_fit_key(j, list(frame.columns)) or "")
            if done is not None:
                if done.oof.shape != (len(frame),):
                    raise ValueError(f"{type(self).__name__}: a given cross-fit has "
                                     f"{done.oof.size} rows; the training rows are "
                                     f"{len(frame)}")
                out.append(done)
                continue
            if splits is None:
                splits = _inner_splits(y01, self.inner_folds, self.random_state,
                                       type(self).__name__)
            parts = [_inner_part(base, frame, y01, splits, self.inner_max_rows,
                                 self.random_state, k) for k in range(len(splits))]
            out.append(CrossFit.from_parts(len(frame), parts, clone(base).fit(frame, y01)))
        return out


# --------------------------------------------------------------------------- Yim & Mitchell


class YimMitchellHybrid(_HybridBase):
    """Yim & Mitchell (2005): a logit model's log-odds as an extra input of an MLP.

    Parameters
    ----------
    first_stage : estimator or None, default None
        The first stage; None means ``LogitScorecard()``. Any binary classifier with
        ``decision_function`` (taken as log-odds) or ``predict_proba`` is accepted.
    hidden_layer_sizes, alpha, learning_rate_init, max_iter, early_stopping,
    validation_fraction : the network's parameters (see :class:`MLPFamily`).
    inner_folds : int, default 5
        K of the inner stratified K-fold that produces the training rows' first-stage
        log-odds out of fold.
    inner_max_rows : int or None, default 20,000
        Rows an inner first stage is fitted on at most (seeded stratified sample; see
        the module docstring); None = all.
    random_state : int or None, default 0
        Seeds the inner folds and the network (and the first stage, see module doc).

    Fitted attributes: ``first_stage_`` (refitted on all training rows; used at
    prediction), ``network_`` (an :class:`MLPFamily` on the raw features plus the column
    ``first_stage_column_``), ``oof_log_odds_`` (the training rows' out-of-fold
    first-stage log-odds, what the network was trained on), ``inner_fold_`` (the inner
    fold of each training row: its log-odds come from a first stage fitted on the rows
    of the other folds).
    """

    kind: ClassVar[str] = "yim_mitchell"
    explainer: ClassVar[Explainer] = "network"
    default_kind: ClassVar[bool] = True
    description: ClassVar[str] = (
        "a hybrid (Yim & Mitchell 2005): a logit scorecard's out-of-fold log-odds fed into "
        "a neural network, cross-fitted without leakage")
    param_maxima: ClassVar[Mapping[str, int]] = {
        **_HybridBase.param_maxima, **MLPFamily.param_maxima}
    search_space: ClassVar[dict[str, Any]] = MLPFamily.search_space  # the network's

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """A plain logistic regression as the first stage (fast), a small network, the
        fewest inner folds."""
        return {"first_stage": LogisticRegression(), "inner_folds": 2,
                **MLPFamily.test_params()}

    @classmethod
    def sized_params(cls, n_rows: int) -> dict[str, Any]:
        """The network sized as :meth:`MLPFamily.sized_params`, the inner folds as every
        cross-fitted hybrid's."""
        return {**MLPFamily.sized_params(n_rows), **super().sized_params(n_rows)}

    def __init__(self, first_stage: Any = None, hidden_layer_sizes: tuple[int, ...] = (64,),
                 alpha: float = 1e-3, learning_rate_init: float = 1e-3, max_iter: int = 200,
                 early_stopping: bool = True, validation_fraction: float = 0.1,
                 inner_folds: int = 5, random_state: int | None = 0,
                 inner_max_rows: int | None = INNER_MAX_ROWS) -> None:
        self.first_stage = first_stage
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.inner_folds = inner_folds
        self.random_state = random_state
        self.inner_max_rows = inner_max_rows

    def _components(self) -> list[Any]:
        return [self.first_stage]

    def _network(self) -> MLPFamily:
        return MLPFamily(hidden_layer_sizes=self.hidden_layer_sizes, alpha=self.alpha,
                         learning_rate_init=self.learning_rate_init, max_iter=self.max_iter,
                         early_stopping=self.early_stopping,
                         validation_fraction=self.validation_fraction,
                         random_state=self.random_state)

    def _first_stage(self) -> Any:
        if self.first_stage is None:
            return _seeded(LogitScorecard(), self.random_state, default=True)
        for method in ("decision_function", "predict_proba"):
            if hasattr(self.first_stage, method):
                break
        else:
            raise ValueError(f"{type(self).__name__}: first_stage must have decision_function "
                             f"or predict_proba; got {type(self.first_stage).__name__}")
        return _seeded(self.first_stage, self.random_state, default=False)

    def _validate_params_values(self) -> None:
        self._check_inner_folds()
        self._network()._validate_params_values()
        self._first_stage()

    def cross_fit_bases(self) -> list[Any]:
        return [self._first_stage()]

    def fit(self, X: Any, y: Any, cross_fits: Mapping[str, CrossFit] | None = None
            ) -> YimMitchellHybrid:
        """Fit; ``cross_fits`` may hold the first stage's cross-fitting on these rows,
        under its :meth:`cross_fit_key` (the study's fold engine shares it)."""
        self._check_inner_folds()
        network = self._network()
        network._validate_params_values()
        frame, y01, _ = self._validate_fit(X, y)
        (first,) = self._cross_fits(frame, y01, cross_fits)
        self.first_stage_ = first.fitted
        self.first_stage_column_ = _free_name("first_stage_log_odds", self.columns_)
        self.network_ = network.fit(frame.assign(**{self.first_stage_column_: first.oof}),
                                    y01)
        self.oof_log_odds_ = first.oof
        self.inner_fold_ = first.fold
        self.n_iter_ = self.network_.n_iter_
        return self

    def first_stage_log_odds(self, X: Any) -> np.ndarray:
        """The first stage's log-odds at prediction time (refitted first stage)."""
        check_is_fitted(self, "network_")
        return log_odds_of(self.first_stage_, self._validate_predict(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "network_")
        frame = self._validate_predict(X)
        aug = frame.assign(**{self.first_stage_column_: log_odds_of(self.first_stage_, frame)})
        return self._proba_from_positive(self.network_.predict_proba(aug)[:, 1])


# --------------------------------------------------------------------------- rules + boosting


class ExpertBoostHybrid(_HybridBase):
    """Rules + gradient boosting: expert points as an extra LightGBM feature.

    The expert (default ``SuiningPoints()``) is fitted on the training rows only to
    resolve its rules against the columns (its label-dependent calibrator is not used);
    its raw ``points(X)`` depend on the features alone, so the training rows' points
    are not leaked information and need no cross-fitting.

    Parameters
    ----------
    expert : estimator with ``points(X)`` or None, default None (``SuiningPoints()``).
    n_estimators, learning_rate, num_leaves, min_child_samples, subsample,
    colsample_bytree, reg_lambda, monotone_constraints, n_jobs, random_state :
        the booster's parameters (see :class:`LightGBMFamily`); ``monotone_constraints``
        may name ``points_column_`` ("expert_points"), e.g. ``{"expert_points": -1}``.

    Fitted attributes: ``expert_``, ``booster_`` (a fitted :class:`LightGBMFamily` on
    the raw features plus ``points_column_``).
    """

    kind: ClassVar[str] = "expert_boost"
    synthetic_default: ClassVar[str | None] = "expert"
    description: ClassVar[str] = (
        "a hybrid of rules and gradient boosting: the expert system's points as one more "
        "input of a LightGBM model")
    explainer: ClassVar[Explainer] = "expert_boost"
    param_maxima: ClassVar[Mapping[str, int]] = {
        **_HybridBase.param_maxima, **LightGBMFamily.param_maxima}
    search_space: ClassVar[dict[str, Any]] = LightGBMFamily.search_space  # the booster's

    @classmethod
    def rule_tables(cls, params: Mapping[str, Any]) -> list[tuple[str, dict[Any, Any]]]:
        """The rule tables of an expert given as ``{family, kind, params}`` (Suining)."""
        expert = params.get("expert")
        if not isinstance(expert, Mapping) or expert.get("kind", "suining") != "suining":
            return []
        return [(f"params.expert.{key}", table) for key, table in
                SuiningPoints.rule_tables(expert.get("params") or {})]

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        return {"expert": SuiningPoints(**SuiningPoints.test_params()),
                **LightGBMFamily.test_params()}

    @classmethod
    def sized_params(cls, n_rows: int) -> dict[str, Any]:
        """The booster sized as LightGBM's (no inner folds: nothing is cross-fitted)."""
        return booster_size(n_rows)

    def __init__(self, expert: Any = None, n_estimators: int = 400,
                 learning_rate: float = 0.03, num_leaves: int = 7,
                 min_child_samples: int = 50, subsample: float = 0.8,
                 colsample_bytree: float = 0.8, reg_lambda: float = 1.0,
                 monotone_constraints: dict[str, int] | None = None, n_jobs: int = 1,
                 random_state: int | None = 0) -> None:
        self.expert = expert
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.monotone_constraints = monotone_constraints
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _components(self) -> list[Any]:
        return [self.expert]

    def _booster(self) -> LightGBMFamily:
        return LightGBMFamily(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate,
            num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
            subsample=self.subsample, colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda, monotone_constraints=self.monotone_constraints,
            n_jobs=self.n_jobs, random_state=self.random_state)

    def _expert(self) -> Any:
        if self.expert is None:
            return SuiningPoints()
        if not hasattr(self.expert, "points"):
            raise ValueError(f"{type(self).__name__}: expert must have a points(X) method "
                             f"(raw rule points); got {type(self.expert).__name__}")
        return clone(self.expert)

    def _validate_params_values(self) -> None:
        self._booster()._validate_params_values()
        self._expert()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ExpertBoostHybrid:
        booster = self._booster()
        booster._validate_params_values()
        expert = self._expert()
        frame, y01, weights = self._validate_fit(X, y, sample_weight)
        expert.fit(frame, y01)
        self.expert_ = expert
        self.points_column_ = _free_name("expert_points", self.columns_)
        aug = frame.assign(**{self.points_column_: self._points(frame)})
        self.booster_ = booster.fit(aug, y01, sample_weight=weights)
        return self

    def _points(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.expert_.points(frame), dtype=float)

    def _augmented(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "booster_")
        frame = self._validate_predict(X)
        return frame.assign(**{self.points_column_: self._points(frame)})

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of default (the booster's raw output)."""
        aug = self._augmented(X)
        return self.booster_.decision_function(aug)

    def predict_proba(self, X: Any) -> np.ndarray:
        aug = self._augmented(X)
        return self._proba_from_positive(self.booster_.predict_proba(aug)[:, 1])

    def pred_contrib(self, X: Any) -> np.ndarray:
        """TreeSHAP over the raw features plus the points column (last but one)."""
        aug = self._augmented(X)
        return self.booster_.pred_contrib(aug)


# --------------------------------------------------------------------------- stacking


class _EstimatorList:
    """Hybrids built from a configured list of (name, estimator) pairs (stacking, the
    selected ensemble): the list is checked once, the same way for both."""

    estimators: Any

    def _components(self) -> list[Any]:
        try:
            return [est for _, est in (self.estimators or [])]
        except (TypeError, ValueError):
            return []

    def _named_pairs(self) -> list[tuple[str, Any]]:
        """The configured pairs: a non-empty list, unique names, each giving scores."""
        owner = type(self).__name__
        try:
            pairs = [(str(name), est) for name, est in self.estimators]
        except (TypeError, ValueError):
            raise ValueError(f"{owner}: estimators must be a list of (name, estimator) "
                             f"pairs; got {self.estimators!r}") from None
        if not pairs:
            raise ValueError(f"{owner}: estimators must not be empty")
        names = [n for n, _ in pairs]
        if len(set(names)) != len(names):
            raise ValueError(f"{owner}: estimator names must be unique; got {names}")
        for name, est in pairs:
            if not (hasattr(est, "decision_function") or hasattr(est, "predict_proba")):
                raise ValueError(f"{owner}: base estimator '{name}' has neither "
                                 "decision_function nor predict_proba")
        return pairs


class StackingHybrid(_EstimatorList, _HybridBase):
    """Stacking: logistic regression on the base families' out-of-fold log-odds.

    Parameters
    ----------
    estimators : list of (name, estimator) or None, default None
        Base models; None means logit (``LogitScorecard()``), lightgbm
        (``LightGBMFamily()``) and mlp (``MLPFamily()``).
    inner_folds : int, default 5
        K of the inner stratified K-fold producing the meta-learner's training inputs.
    inner_max_rows : int or None, default 20,000
        Rows an inner base model is fitted on at most (seeded stratified sample; see
        the module docstring); None = all.
    C : float, default 1.0
        Inverse L2 strength of the logistic-regression meta-learner.
    random_state : int or None, default 0

    Fitted attributes: ``estimators_`` (base models refitted on all rows, in order),
    ``names_``, ``meta_`` (the ``LogisticRegression``), ``oof_log_odds_`` (n x bases:
    the meta-learner's training inputs).
    """

    kind: ClassVar[str] = "stacking"
    description: ClassVar[str] = (
        "a hybrid by stacking: a logistic regression on the base families' out-of-fold "
        "log-odds, cross-fitted without leakage")
    explainer: ClassVar[Explainer] = "stacking"
    persisted_types: ClassVar[tuple[str, ...]] = (
        "sklearn.linear_model._logistic.LogisticRegression",)

    def __init__(self, estimators: list[tuple[str, Any]] | None = None, inner_folds: int = 5,
                 C: float = 1.0, random_state: int | None = 0,
                 inner_max_rows: int | None = INNER_MAX_ROWS) -> None:
        self.estimators = estimators
        self.inner_folds = inner_folds
        self.C = C
        self.random_state = random_state
        self.inner_max_rows = inner_max_rows

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        return {"estimators": [("lr", LogisticRegression()),
                               ("lightgbm", LightGBMFamily(**LightGBMFamily.test_params()))],
                "inner_folds": 2}

    def _bases(self) -> list[tuple[str, Any]]:
        if self.estimators is None:
            return [(name, _seeded(est, self.random_state, default=True)) for name, est in
                    (("logit", LogitScorecard()), ("lightgbm", LightGBMFamily()),
                     ("mlp", MLPFamily()))]
        return [(n, _seeded(e, self.random_state, default=False))
                for n, e in self._named_pairs()]

    def _validate_params_values(self) -> None:
        self._check_inner_folds()
        _check_param("C", self.C, Real, 0.0, low_open=True, owner=type(self).__name__)
        for _, est in self._bases():
            check_params(est)

    def cross_fit_bases(self) -> list[Any]:
        return [est for _, est in self._bases()]

    def fit(self, X: Any, y: Any, cross_fits: Mapping[str, CrossFit] | None = None
            ) -> StackingHybrid:
        """Fit; ``cross_fits`` may hold bases' cross-fitting on these rows, under their
        :meth:`cross_fit_key` (the study's fold engine shares them)."""
        self._check_inner_folds()
        _check_param("C", self.C, Real, 0.0, low_open=True, owner=type(self).__name__)
        names = [n for n, _ in self._bases()]
        frame, y01, _ = self._validate_fit(X, y)
        crossed = self._cross_fits(frame, y01, cross_fits)
        z = np.column_stack([c.oof for c in crossed])
        self.meta_ = LogisticRegression(C=float(self.C), max_iter=1000).fit(z, y01)
        self.estimators_ = [c.fitted for c in crossed]
        self.names_ = names
        self.oof_log_odds_ = z
        return self

    def base_log_odds(self, X: Any) -> np.ndarray:
        """The refitted base models' log-odds, one column per base (meta inputs)."""
        check_is_fitted(self, "meta_")
        frame = self._validate_predict(X)
        return np.column_stack([log_odds_of(est, frame) for est in self.estimators_])

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of default from the meta-learner."""
        check_is_fitted(self, "meta_")
        return np.asarray(self.meta_.decision_function(self.base_log_odds(X)), dtype=float)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._proba_from_positive(sigmoid(self.decision_function(X)))
