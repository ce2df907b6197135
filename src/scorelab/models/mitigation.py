"""Fairness mitigation as families: fairlearn's reductions and post-processing by age band.

Both estimators are scikit-learn classifiers registered as family ``mitigation``
(kinds ``exponentiated_gradient`` and ``threshold_optimizer``). They read the sensitive
column (``sensitive``, age by default) from ``X``, cut it into age bands, and never pass it
(nor any other protected column) to the base model: the variant's config must list the
sensitive column in ``use_protected`` so that it reaches ``X`` at all.

Decisions and probabilities
---------------------------
scorelab approves a citizen whose P(default) is below a cut-off (600 Sesame points =
P(default) 0.2 by default; ``decision_threshold``). fairlearn's constraints act on hard
0/1 predictions of the *positive class, default*, i.e. on rejections; parity of
rejection rates is parity of approval rates.

* :class:`ReductionsMitigator` runs :class:`fairlearn.reductions.ExponentiatedGradient`
  with the cost-sensitive objective ``ErrorRate(costs={"fp": c, "fn": 1 - c})``
  (``c = decision_threshold``), so that a base learner's 0.5 threshold on its
  cost-weighted problem is scorelab's cut-off ``c``. The returned probability is
  deterministic: the ``weights_``-average of the predictors' ``predict_proba`` (not
  fairlearn's randomised ``predict``, nor ``_pmf_predict``, which averages hard 0/1
  votes and so gives a handful of distinct values), mapped back from the cost-weighted
  scale by ``logit(p) = logit(q) + logit(c)``: ``q = 0.5`` <-> ``p = c``.
* :class:`ThresholdMitigator` runs :class:`fairlearn.postprocessing.ThresholdOptimizer`
  on the base model's P(default) and turns its (randomised) per-band thresholds into a
  deterministic score: per band ``g`` the threshold ``t_g`` (the p-weighted mix of
  fairlearn's two thresholds for that band) is moved onto the cut-off,
  ``logit(p') = logit(p) - logit(t_g) + logit(c)``, so "approve if p' < c" is exactly
  "approve if p < t_g" and the ranking within a band is the base model's.

Base models and sample weights
------------------------------
ExponentiatedGradient refits the base model on reweighted, relabelled data, so the
base must accept ``sample_weight``. ``trees/lightgbm`` (LightGBMFamily) does and is built
through the registry. The logit family's scorecard (optbinning) does not take weights,
so ``base="logit"`` means a weighted logistic regression on the same inputs (median
imputation + missing indicators, one-hot categories, standardisation): the same model
class, without the binning. fairlearn turns ``X`` into a plain array, so inputs are
encoded to numbers (categories one-hot) before they reach fairlearn.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from scorelab.core.ages import age_bands
from scorelab.core.numeric import logit, sigmoid
from scorelab.models.base import Explainer, ScorelabClassifier, check_params
from scorelab.models.trees import LightGBMFamily, TabularInputMixin

__all__ = ["PROTECTED_COLUMNS", "ReductionsMitigator", "ThresholdMitigator"]

PROTECTED_COLUMNS = ("age", "sex", "minority", "region")
_CONSTRAINTS = ("demographic_parity", "equalized_odds")
_BASES = ("logit", "trees/lightgbm")
_FAST_LIGHTGBM = {"n_estimators": 150, "learning_rate": 0.08}


class _WeightedLogit(ClassifierMixin, BaseEstimator):
    """Logistic regression on a numeric matrix with NaN: median imputation, missing
    indicators and standardisation, fitted with sample weights (the ``logit`` base).

    Values beyond 20 inter-quartile ranges from the quartiles (of the training rows) are
    clipped there before the standardisation: an extreme tail (a ratio of 300,000 where
    three quarters are below 1) would otherwise take the column's whole coefficient. A
    column without such values is exactly as without the clipping."""

    explainer: ClassVar[Explainer] = "linear"

    def __init__(self, C: float = 1.0, max_iter: int = 500) -> None:
        self.C = C
        self.max_iter = max_iter

    def _design(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        miss = np.isnan(X)
        filled = np.clip(np.where(miss, self.median_, X), self.low_, self.high_)
        z = (filled - self.mean_) / self.scale_
        return np.hstack([z, miss[:, self.miss_cols_].astype(float)])

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _WeightedLogit:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y).astype(int)
        self.classes_ = np.unique(y)
        with np.errstate(all="ignore"):
            med = np.nanmedian(np.where(np.isnan(X).all(axis=0), 0.0, X), axis=0) \
                if X.size else np.zeros(X.shape[1])
        self.median_ = np.nan_to_num(med)
        self.low_, self.high_ = _fences(X)
        filled = np.clip(np.where(np.isnan(X), self.median_, X), self.low_, self.high_)
        self.mean_ = filled.mean(axis=0)
        sd = filled.std(axis=0)
        self.scale_ = np.where(sd > 0, sd, 1.0)
        self.miss_cols_ = np.flatnonzero(np.isnan(X).any(axis=0))
        design = self._design(X)
        if self.classes_.size < 2:  # fairlearn may relabel everything to one class
            self.constant_ = float(self.classes_[0])
            return self
        self.constant_ = None
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter,
                                         solver="newton-cholesky").fit(
            design, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "median_")
        n = np.asarray(X).shape[0]
        if self.constant_ is not None:
            p1 = np.full(n, self.constant_)
        else:
            p1 = self.model_.predict_proba(self._design(X))[:, 1]
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Log-odds terms per input column (coefficient x standardised value, plus its
        missing indicator's term) and the intercept: they sum to the log-odds."""
        check_is_fitted(self, "median_")
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        n, k = frame.shape
        terms = np.zeros((n, k))
        intercept = self.constant_ if self.constant_ is not None else None
        if intercept is None:
            coef = self.model_.coef_[0]
            weighted = self._design(frame.to_numpy(dtype=float)) * coef
            terms += weighted[:, :k]
            np.add.at(terms.T, self.miss_cols_, weighted[:, k:].T)
            base = float(self.model_.intercept_[0])
        else:  # one class only: a constant log-odds
            base = float(np.log(np.clip(intercept, 1e-12, 1 - 1e-12))
                         - np.log1p(-np.clip(intercept, 1e-12, 1 - 1e-12)))
        out = pd.DataFrame(terms, columns=list(frame.columns), index=frame.index)
        out["intercept"] = base
        return out


#: Values beyond this many inter-quartile ranges outside the quartiles are clipped.
TAIL_SPREADS = 20


def _fences(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the quartiles widened by :data:`TAIL_SPREADS` spreads (the
    inter-quartile range; where it is 0, the 1st-99th percentile range); no limit for a
    column without spread or without values."""
    low = np.full(X.shape[1], -np.inf)
    high = np.full(X.shape[1], np.inf)
    for j in range(X.shape[1]):
        known = X[:, j][~np.isnan(X[:, j])]
        if known.size == 0:
            continue
        q01, q25, q75, q99 = np.quantile(known, [0.01, 0.25, 0.75, 0.99])
        spread = q75 - q25 if q75 > q25 else q99 - q01
        if spread > 0:
            low[j], high[j] = q25 - TAIL_SPREADS * spread, q75 + TAIL_SPREADS * spread
    return low, high


def _build_base(base: str, params: dict[str, Any] | None, random_state: int | None) -> Any:
    if base == "logit":
        return _WeightedLogit(**(params or {}))
    if base == "trees/lightgbm":
        model = LightGBMFamily(**{**_FAST_LIGHTGBM, "random_state": random_state,
                                  **(params or {})})
        check_params(model)
        return model
    raise ValueError(f"base must be one of {', '.join(_BASES)}; got {base!r}")


class _MitigatorBase(TabularInputMixin, ScorelabClassifier):
    """Sensitive column handling and input encoding shared by both mitigators."""

    family: ClassVar[str] = "mitigation"
    persisted_types: ClassVar[tuple[str, ...]] = (
        "scorelab.models.mitigation._WeightedLogit",
        "sklearn.linear_model._logistic.LogisticRegression")

    def _check_common(self) -> None:
        if self.constraint not in _CONSTRAINTS:
            raise ValueError(f"constraint must be one of {', '.join(_CONSTRAINTS)}; "
                             f"got {self.constraint!r}")
        if self.base not in _BASES:
            raise ValueError(f"base must be one of {', '.join(_BASES)}; got {self.base!r}")
        edges = list(self.age_bands)
        if len(edges) < 1 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"age_bands must be strictly increasing; got {edges!r}")
        if not isinstance(self.sensitive, str | int | np.integer) or \
                isinstance(self.sensitive, bool):
            raise ValueError(f"sensitive must be a column name or position; got "
                             f"{self.sensitive!r}")
        if not 0.0 < float(self.decision_threshold) < 1.0:
            raise ValueError(f"decision_threshold must be in (0, 1); got "
                             f"{self.decision_threshold!r}")

    def _sensitive_name(self, columns: Sequence[Any]) -> str:
        """The sensitive column's name (``sensitive`` may be a name or a position)."""
        names = [str(c) for c in columns]
        if isinstance(self.sensitive, int | np.integer) and not isinstance(self.sensitive,
                                                                           bool):
            if not -len(names) <= int(self.sensitive) < len(names):
                raise ValueError(f"{type(self).__name__}: sensitive column position "
                                 f"{self.sensitive} is out of range for {len(names)} "
                                 "column(s)")
            return names[int(self.sensitive)]
        if str(self.sensitive) not in names:
            raise ValueError(f"{type(self).__name__}: the sensitive column "
                             f"'{self.sensitive}' is not in X (columns: "
                             f"{', '.join(names)}); list it in the variant's use_protected")
        return str(self.sensitive)

    def _sensitive_of(self, frame: pd.DataFrame) -> np.ndarray:
        """Group of every row: the age band of a numeric sensitive column, the value of a
        categorical one ("unknown" where it is missing)."""
        name = self._sensitive_name(frame.columns)
        col = frame.iloc[:, [str(c) for c in frame.columns].index(name)]
        if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col) \
                or not pd.api.types.is_numeric_dtype(col):
            return np.asarray(["unknown" if pd.isna(v) else str(v) for v in col], dtype=object)
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        bands = np.asarray(age_bands(np.nan_to_num(values, nan=0.0),
                                      list(self.age_bands)).astype(str), dtype=object)
        bands[np.isnan(values)] = "unknown"
        return bands

    def _fit_encoder(self, frame: pd.DataFrame) -> None:
        dropped = {self._sensitive_name(self.columns_), *map(str, self.protected)}
        self.base_columns_ = [c for c in self.columns_ if c not in dropped]
        if not self.base_columns_:
            raise ValueError(f"{type(self).__name__} needs at least one input besides the "
                             f"protected columns; got {frame.shape[1]} feature(s) "
                             f"({', '.join(self.columns_)})")

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Numbers only (fairlearn turns X into an array): categories one-hot, NaN kept."""
        parts = []
        for col in self.base_columns_:
            s = frame[col]
            if col in self.categories_:
                cats = self.categories_[col]
                codes = pd.Categorical(s, categories=cats).codes
                onehot = (codes[:, None] == np.arange(len(cats))[None, :]).astype(float)
                onehot[codes < 0] = np.nan
                parts.append(onehot)
            else:
                parts.append(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)[:, None])
        return np.hstack(parts)


class ReductionsMitigator(_MitigatorBase):
    """fairlearn's ExponentiatedGradient around a base family, constrained by age band.

    Parameters
    ----------
    base : "logit" (weighted logistic regression) or "trees/lightgbm" (LightGBMFamily,
        150 trees at learning rate 0.08 unless ``base_params`` says otherwise).
    constraint : "demographic_parity" (equal rejection = approval rates across bands) or
        "equalized_odds" (equal TPR and FPR of rejection across bands).
    sensitive : column of ``X`` to equalise across (a name, or a position): by default
        the age, cut into ``age_bands`` (lower edges); a categorical column is grouped by
        its values; a missing value forms the group "unknown". A study sets it to the
        population's age attribute unless the variant's params name another.
    protected : further columns never passed to the base model.
    max_iter, eps, eta0 : ExponentiatedGradient's iterations, allowed constraint
        violation and step size.
    decision_threshold : P(default) at which scorelab rejects (0.2 = 600 Sesame points).
    base_params : parameters of the base model.
    random_state : seed of the base model (the result is deterministic given it).
    """

    kind: ClassVar[str] = "exponentiated_gradient"
    default_kind: ClassVar[bool] = True
    description: ClassVar[str] = (
        "a fairness-mitigation variant: fairlearn's exponentiated-gradient reduction "
        "around a base model, constrained by age band")
    param_maxima: ClassVar[Mapping[str, int]] = {
        **ScorelabClassifier.param_maxima, "max_iter": 100_000}

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """The checks' data has no age column: band the first column instead; two
        iterations of the reduction (each fits the base model and solves the game)."""
        return {"sensitive": 0, "age_bands": (-1e9, 0.0), "max_iter": 2}

    def __init__(self, base: str = "logit", constraint: str = "demographic_parity",
                 sensitive: str = "age", age_bands: Sequence[float] = (18, 26, 36, 51, 62),
                 protected: Sequence[str] = PROTECTED_COLUMNS, max_iter: int = 20,
                 eps: float = 0.01, eta0: float = 2.0, decision_threshold: float = 0.2,
                 base_params: dict[str, Any] | None = None,
                 random_state: int | None = 0) -> None:
        self.base = base
        self.constraint = constraint
        self.sensitive = sensitive
        self.age_bands = age_bands
        self.protected = protected
        self.max_iter = max_iter
        self.eps = eps
        self.eta0 = eta0
        self.decision_threshold = decision_threshold
        self.base_params = base_params
        self.random_state = random_state

    def _validate_params_values(self) -> None:
        self._check_common()
        if not isinstance(self.max_iter, int | np.integer) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer; got {self.max_iter!r}")
        if not float(self.eps) > 0:
            raise ValueError(f"eps must be positive; got {self.eps!r}")

    def fit(self, X: Any, y: Any) -> ReductionsMitigator:
        from fairlearn.reductions import (
            DemographicParity,
            EqualizedOdds,
            ErrorRate,
            ExponentiatedGradient,
        )

        self._validate_params_values()
        frame, y01, _ = self._validate_fit(X, y)
        groups = self._sensitive_of(frame)
        self._fit_encoder(frame)
        Z = self._encode(frame)
        c = float(self.decision_threshold)
        constraints = (DemographicParity() if self.constraint == "demographic_parity"
                       else EqualizedOdds())
        eg = ExponentiatedGradient(
            _build_base(self.base, self.base_params, self.random_state),
            constraints=constraints, objective=ErrorRate(costs={"fp": c, "fn": 1.0 - c}),
            eps=self.eps, max_iter=int(self.max_iter), eta0=self.eta0)
        with warnings.catch_warnings():
            # fairlearn 0.15 grows Series with .at and mixes dtypes in place, which pandas 3
            # deprecates (harmless here): silence pandas' deprecation class only, inside fit
            warnings.filterwarnings("ignore", category=getattr(
                pd.errors, "Pandas4Warning", FutureWarning))
            eg.fit(Z, y01, sensitive_features=groups)
        keep = np.flatnonzero(np.asarray(eg.weights_, dtype=float) > 0)
        self.predictors_ = [eg.predictors_[i] for i in keep]
        w = np.asarray(eg.weights_, dtype=float)[keep]
        self.weights_ = w / w.sum()
        self.n_predictors_ = int(len(eg.predictors_))
        self.n_iter_ = int(eg.last_iter_) + 1
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "predictors_")
        Z = self._encode(self._validate_predict(X))
        q = np.zeros(Z.shape[0])
        for weight, predictor in zip(self.weights_, self.predictors_, strict=True):
            q += weight * predictor.predict_proba(Z)[:, 1]
        p = sigmoid(logit(q) + logit(np.array(float(self.decision_threshold))))
        return self._proba_from_positive(p)


class ThresholdMitigator(_MitigatorBase):
    """fairlearn's ThresholdOptimizer on a base family's P(default), per age band.

    Group-specific thresholds treat citizens of the same risk differently by age band:
    such disparate treatment may itself be unlawful (e.g. where age is a protected
    ground for credit decisions), so this variant is for comparison on the leaderboard,
    not a recommendation. Deterministic: see the module docstring for how fairlearn's
    randomised thresholds become one threshold per band.

    Parameters
    ----------
    base, sensitive, age_bands, protected, decision_threshold, base_params,
    random_state : as for :class:`ReductionsMitigator`.
    constraint : "demographic_parity" or "equalized_odds".
    objective : fairlearn's objective; "balanced_accuracy_score" (default) puts the
        threshold near P(default) = the default rate, close to scorelab's cut-off.
    grid_size : thresholds fairlearn tries.
    """

    kind: ClassVar[str] = "threshold_optimizer"
    explainer: ClassVar[Explainer] = "shifted"  # the base's explanation + the band shift
    description: ClassVar[str] = (
        "a fairness-mitigation variant: fairlearn's threshold optimizer, one threshold "
        "per age band on a base model's probability")
    param_maxima: ClassVar[Mapping[str, int]] = {
        **ScorelabClassifier.param_maxima, "grid_size": 100_000}

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """The checks' data has no age column: band the first column instead."""
        return {"sensitive": 0, "age_bands": (-1e9, 0.0), "grid_size": 50}

    def __init__(self, base: str = "logit", constraint: str = "demographic_parity",
                 sensitive: str = "age", age_bands: Sequence[float] = (18, 26, 36, 51, 62),
                 protected: Sequence[str] = PROTECTED_COLUMNS,
                 objective: str = "balanced_accuracy_score", grid_size: int = 1000,
                 decision_threshold: float = 0.2, base_params: dict[str, Any] | None = None,
                 random_state: int | None = 0) -> None:
        self.base = base
        self.constraint = constraint
        self.sensitive = sensitive
        self.age_bands = age_bands
        self.protected = protected
        self.objective = objective
        self.grid_size = grid_size
        self.decision_threshold = decision_threshold
        self.base_params = base_params
        self.random_state = random_state

    def _validate_params_values(self) -> None:
        self._check_common()
        if self.objective not in ("accuracy_score", "balanced_accuracy_score"):
            raise ValueError("objective must be accuracy_score or balanced_accuracy_score; "
                             f"got {self.objective!r}")
        if not isinstance(self.grid_size, int | np.integer) or self.grid_size < 2:
            raise ValueError(f"grid_size must be an integer >= 2; got {self.grid_size!r}")

    def fit(self, X: Any, y: Any) -> ThresholdMitigator:
        from fairlearn.postprocessing import ThresholdOptimizer

        self._validate_params_values()
        frame, y01, _ = self._validate_fit(X, y)
        groups = self._sensitive_of(frame)
        self._fit_encoder(frame)
        Z = self._encode(frame)
        base = _build_base(self.base, self.base_params, self.random_state).fit(Z, y01)
        self.base_ = base
        opt = ThresholdOptimizer(estimator=base, constraints=self.constraint,
                                 objective=self.objective, grid_size=int(self.grid_size),
                                 prefit=True, predict_method="predict_proba")
        # a group without both outcomes (e.g. the one citizen of unknown age) has no
        # threshold to find: it keeps the cut-off, like a group unseen in training
        both = pd.Series(y01).groupby(groups).transform("nunique").to_numpy() == 2
        opt.fit(Z[both], y01[both], sensitive_features=groups[both])
        self.thresholds_ = {str(g): self._threshold_of(b) for g, b in
                            opt.interpolated_thresholder_.interpolation_dict.items()}
        return self

    @staticmethod
    def _threshold_of(bunch: Any) -> float:
        """One P(default) threshold from fairlearn's mix of two threshold operations."""
        total, mass = 0.0, 0.0
        for p, op in ((bunch.p0, bunch.operation0), (bunch.p1, bunch.operation1)):
            if p <= 0:
                continue
            t = float(np.clip(op.threshold, 1e-6, 1.0 - 1e-6))
            if op.operator == "<":  # "predict default when below t": a flipped rule
                t = 1.0 - 1e-6
            total += p * t
            mass += p
        return total / mass if mass > 0 else 0.5

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "thresholds_")
        frame = self._validate_predict(X)
        p = self.base_.predict_proba(self._encode(frame))[:, 1]
        return self._proba_from_positive(sigmoid(logit(p) + self._shift(frame)))

    def group_shift(self, X: Any) -> np.ndarray:
        """What the variant adds to the base model's log-odds of default: each age
        band's threshold moved onto the common one (0 for a band unseen in training)."""
        check_is_fitted(self, "thresholds_")
        return self._shift(self._validate_predict(X))

    def _shift(self, frame: pd.DataFrame) -> np.ndarray:
        fallback = float(self.decision_threshold)
        t = pd.Series(self._sensitive_of(frame), dtype=object).map(self.thresholds_) \
            .astype(float).fillna(fallback).to_numpy()
        return logit(np.array(fallback)) - logit(t)

    def base_inputs(self, X: Any) -> pd.DataFrame:
        """The base model's inputs (categories one-hot), named by position, and the
        input column each comes from (:meth:`base_input_columns`)."""
        check_is_fitted(self, "thresholds_")
        Z = self._encode(self._validate_predict(X))
        names = getattr(self.base_, "columns_", None) or [f"x{j}" for j in range(Z.shape[1])]
        return pd.DataFrame(Z, columns=list(names))

    def base_input_columns(self) -> list[str]:
        """The input column of each of the base model's inputs."""
        return [col for col in self.base_columns_ for _ in
                range(len(self.categories_[col]) if col in self.categories_ else 1)]

    def sensitive_column(self) -> str:
        """The column whose band sets the shift (where its part of an explanation goes)."""
        return self._sensitive_name(self.columns_)
