"""The logit family: the classic bank scorecard (optimal binning + WoE + logistic regression).

Every variable is binned by optbinning's :class:`~optbinning.BinningProcess`
(constrained optimal binning; categorical columns binned as categories, NaN in a bin of
its own), each bin is replaced by its weight of evidence (WoE), and a logistic regression
on the WoE values gives the log-odds of default

    log-odds(x) = intercept + sum_j coef_j * WoE_j(bin_j(x)),

exactly additive over variables (``explainer = "linear"``). optbinning's
:class:`~optbinning.Scorecard` turns it into points with the usual PDO scaling
(``scaling_method="pdo_odds"``):

    points(x) = offset - factor * log-odds(x),  factor = pdo / ln 2,
    offset = base_points - factor * ln(odds),

so ``base_points`` are scored at good:bad odds of ``odds`` and every ``pdo`` points
double the odds; higher points = safer. Each bin's points are
``-factor * (coef_j * WoE + intercept / n) + offset / n`` (``n`` variables), so the
points of a citizen are the sum of the points of its bins.

Speed: optbinning's default CP solver bins the 22 default features of 20k citizens in
~0.6 s (a 5-fold cross-validation of the whole scorecard: ~3-4 s, measured in
tests/models/test_logit.py), so optbinning is used as is, without tuning the solver.
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd


def _not_highs_import_noise(record: logging.LogRecord) -> bool:
    return "importing solver HIGHS" not in record.getMessage()


# optbinning pulls in cvxpy (through ropwr), whose optional HiGHS solver cannot load next
# to the HiGHS that ortools bundles (a symbol clash between the two wheels). cvxpy logs
# the failed import to stderr while optbinning is imported; scorelab never uses that
# solver, so that one message is filtered (set before the import: cvxpy resets levels).
logging.getLogger("__cvxpy__").addFilter(_not_highs_import_noise)

from optbinning import BinningProcess, Scorecard  # noqa: E402
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from scorelab.models.base import Explainer, ScorelabClassifier, categorical_columns
from scorelab.models.expert import _ValidatedClassifier

__all__ = ["LogitScorecard"]

# WoE of a missing / special value: the empirical WoE of its own bin (not optbinning's
# default 0), so a thin file scores what thin files did in training.
_EMPIRICAL = "empirical"
_TRENDS = ("auto", "auto_heuristic", "auto_asc_desc", "ascending", "descending", "convex",
           "concave", "peak", "valley", None)


def _positive(value: Any, what: str, *, integer: bool = False, allow_zero: bool = False
              ) -> None:
    ok_type = isinstance(value, numbers.Integral) if integer else \
        isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type or not math.isfinite(float(value)) \
            or (value < 0 if allow_zero else value <= 0):
        kind = "an integer" if integer else "a real number"
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"LogitScorecard.{what} must be {kind} {bound}; got {value!r}")


class LogitScorecard(_ValidatedClassifier):
    """Optimal binning + WoE + logistic regression, with a points table.

    Parameters
    ----------
    max_n_bins : int, default 6
        Maximum number of bins per variable (plus the missing and special bins).
    C : float, default 1.0
        Inverse L2 regularisation strength of the logistic regression on WoE values.
    pdo : float, default 50
        Points that double the good:bad odds.
    odds : float, default 4
        Good:bad odds at ``base_points``.
    base_points : float, default 600
        Points at good:bad odds ``odds``.
    min_bin_size : float, default 0.05
        Minimum share of citizens in a bin.
    max_n_prebins : int, default 20
        Number of pre-bins (quantiles) the optimiser merges from.
    monotonic_trend : str or None, default "auto_asc_desc"
        Event-rate trend imposed on numeric variables (optbinning's option): the default
        makes every numeric variable's risk monotone (ascending or descending, whichever
        fits), the usual requirement for a scorecard that can be explained and defended.
        Categorical variables are ordered by event rate (no trend constraint).
    random_state : int or None, default None
        Passed to the logistic regression (the lbfgs solver is deterministic anyway).

    Fitted attributes: ``scorecard_`` (the optbinning ``Scorecard``), ``variables_``,
    ``categorical_``, ``coef_`` (pd.Series per variable), ``intercept_`` (float),
    ``factor_``, ``offset_``, ``categories_`` (categories seen in training, per
    categorical variable; an unseen category is scored as missing),
    ``n_features_in_``, ``feature_names_in_``.
    """

    family: ClassVar[str] = "logit"
    kind: ClassVar[str] = "scorecard"
    default_kind: ClassVar[bool] = True
    description: ClassVar[str] = (
        "a logistic-regression scorecard on binned weight-of-evidence features, with "
        "points per bin")
    explainer: ClassVar[Explainer] = "linear"
    persisted_types: ClassVar[tuple[str, ...]] = (
        "optbinning.binning.binning.OptimalBinning",
        "optbinning.binning.binning_process.BinningProcess",
        "optbinning.binning.binning_statistics.BinningTable",
        "optbinning.scorecard.scorecard.Scorecard",
        "sklearn.linear_model._logistic.LogisticRegression")
    param_maxima: ClassVar[Mapping[str, int]] = {
        **ScorelabClassifier.param_maxima, "max_n_bins": 1_000, "max_n_prebins": 10_000}
    #: Its points table is drawn on the run's score scale.
    scale_params: ClassVar[Mapping[str, str]] = {
        "pdo": "pdo", "odds": "base_odds", "base_points": "base_score"}
    #: The points scale only turns log-odds into points, and the lbfgs solver ignores its
    #: seed: two scorecards differing in these give the same log-odds (a test checks it).
    log_odds_neutral: ClassVar[tuple[str, ...]] = ("pdo", "odds", "base_points",
                                                   "random_state")

    search_space: ClassVar[dict[str, Any]] = {  # searched by evaluation.tuning
        "max_n_bins": (2, 10), "C": (1e-3, 10.0, "log"), "min_bin_size": (0.02, 0.15)}

    def __init__(self, max_n_bins: int = 6, C: float = 1.0, pdo: float = 50.0,
                 odds: float = 4.0, base_points: float = 600.0, min_bin_size: float = 0.05,
                 max_n_prebins: int = 20, monotonic_trend: str | None = "auto_asc_desc",
                 random_state: int | None = None) -> None:
        self.max_n_bins = max_n_bins
        self.C = C
        self.pdo = pdo
        self.odds = odds
        self.base_points = base_points
        self.min_bin_size = min_bin_size
        self.max_n_prebins = max_n_prebins
        self.monotonic_trend = monotonic_trend
        self.random_state = random_state

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        return tags

    # -- fitting ------------------------------------------------------------------------
    def _validate_params_values(self) -> None:
        _positive(self.max_n_bins, "max_n_bins", integer=True)
        _positive(self.max_n_prebins, "max_n_prebins", integer=True)
        _positive(self.C, "C")
        _positive(self.pdo, "pdo")
        _positive(self.odds, "odds")
        if isinstance(self.base_points, bool) or not isinstance(self.base_points, numbers.Real) \
                or not math.isfinite(float(self.base_points)):
            raise ValueError("LogitScorecard.base_points must be a finite real number; got "
                             f"{self.base_points!r}")
        if isinstance(self.min_bin_size, bool) or not isinstance(self.min_bin_size, numbers.Real) \
                or not 0.0 < float(self.min_bin_size) <= 0.5:
            raise ValueError("LogitScorecard.min_bin_size must be in (0, 0.5]; got "
                             f"{self.min_bin_size!r}")
        if self.monotonic_trend not in _TRENDS:
            raise ValueError(f"LogitScorecard.monotonic_trend must be one of {_TRENDS}; got "
                             f"{self.monotonic_trend!r}")

    def _prepared(self, frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
        """What optbinning reads: categories as object (NaN kept), numbers as float."""
        data = {}
        for col in frame.columns:
            s = frame[col]
            if col in categorical:
                data[col] = s.astype(object).where(s.notna(), np.nan).to_numpy(dtype=object)
            else:
                data[col] = pd.to_numeric(s, errors="raise").to_numpy(dtype=float,
                                                                       na_value=np.nan)
        return pd.DataFrame(data, index=frame.index, columns=frame.columns)

    def fit(self, X: Any, y: Any) -> LogitScorecard:
        frame = self._frame(X, reset=True)
        y01 = self._targets(y, frame)
        self._validate_params_values()
        variables = [str(c) for c in frame.columns]
        frame = frame.set_axis(variables, axis=1)
        categorical = categorical_columns(frame)
        data = self._prepared(frame, categorical)
        numeric = [v for v in variables if v not in categorical]
        fit_params = ({v: {"monotonic_trend": self.monotonic_trend} for v in numeric}
                      if self.monotonic_trend != "auto" else None)
        binning = BinningProcess(
            variables, categorical_variables=categorical or None,
            max_n_bins=int(self.max_n_bins), max_n_prebins=int(self.max_n_prebins),
            min_bin_size=float(self.min_bin_size), binning_fit_params=fit_params)
        estimator = LogisticRegression(C=float(self.C), max_iter=1000,
                                       random_state=self.random_state)
        scorecard = Scorecard(
            binning_process=binning, estimator=estimator, scaling_method="pdo_odds",
            scaling_method_params={"pdo": float(self.pdo), "odds": float(self.odds),
                                   "scorecard_points": float(self.base_points)})
        with warnings.catch_warnings():
            # optbinning's automatic trend detection divides by the event-rate range of
            # the pre-bins (auto_monotonic.py: p_area = ... / ((ymax - ymin) * n)), which
            # is 0 when every pre-bin has the same event rate (a constant or uninformative
            # column): numpy warns and the trend falls back harmlessly. Only that warning.
            warnings.filterwarnings("ignore", message="invalid value encountered in scalar "
                                    "divide", category=RuntimeWarning,
                                    module=r"optbinning\.binning\.auto_monotonic")
            scorecard.fit(data, y01, metric_special=_EMPIRICAL, metric_missing=_EMPIRICAL)
        self.scorecard_ = scorecard
        self.variables_ = variables
        self.categorical_ = categorical
        self.categories_ = {c: sorted({str(v) for v in data[c].dropna()}) for c in categorical}
        est = scorecard.estimator_
        self.coef_ = pd.Series(est.coef_.ravel().astype(float), index=variables, name="coef")
        self.intercept_ = float(np.ravel(est.intercept_)[0])
        self.factor_ = float(self.pdo) / math.log(2.0)
        self.offset_ = float(self.base_points) - self.factor_ * math.log(float(self.odds))
        return self

    # -- prediction ---------------------------------------------------------------------
    def _data(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "scorecard_")
        frame = self._frame(X, reset=False)
        frame = frame.set_axis(self.variables_, axis=1)
        data = self._prepared(frame, self.categorical_)
        for col, seen in self.categories_.items():
            # a category unseen in training is scored as missing (its own bin); the
            # values are compared once each, not once per citizen
            values = data[col]
            present = pd.unique(values.dropna())
            known = values.isna() | values.isin([v for v in present if str(v) in seen])
            data[col] = values.where(known, np.nan)
        return data

    def _woe(self, data: pd.DataFrame) -> pd.DataFrame:
        return self.scorecard_.binning_process_.transform(
            data, metric="woe", metric_special=_EMPIRICAL, metric_missing=_EMPIRICAL)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Log-odds contributions: ``intercept`` then ``coef_j * WoE_j`` per variable.

        The row sums equal :meth:`decision_function` (it is computed from them).
        """
        data = self._data(X)
        contrib = self._woe(data)[self.variables_].astype(float) * self.coef_
        contrib.index = data.index
        contrib.insert(0, "intercept", self.intercept_)
        return contrib

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of default: intercept plus the sum of the per-variable contributions."""
        return self.contributions(X).sum(axis=1).to_numpy()

    def points(self, X: Any) -> np.ndarray:
        """Scorecard points (higher = safer): the sum of each variable's bin points.

        Equals ``offset_ - factor_ * decision_function(X)`` up to rounding.
        """
        data = self._data(X)
        return np.asarray(self.scorecard_.score(data), dtype=float)

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        return {"max_n_bins": 4, "max_n_prebins": 8}

    def deliverable_tables(self) -> dict[str, pd.DataFrame]:
        """``points_table.csv`` (variable, bin, WoE, points) and ``binning.csv`` (each
        variable's information value), what a credit team signs off."""
        summary = self.scorecard_.binning_process_.summary()
        binning = pd.DataFrame({
            "variable": summary["name"].astype(str),
            "dtype": summary["dtype"].astype(str),
            "selected": summary["selected"].astype(bool),
            "n_bins": pd.to_numeric(summary["n_bins"]),
            "information_value": pd.to_numeric(summary["iv"]),
            "gini": pd.to_numeric(summary["gini"]),
        }).sort_values("information_value", ascending=False, ignore_index=True)
        return {"points_table.csv": self.points_table(), "binning.csv": binning}

    def points_table(self) -> pd.DataFrame:
        """One row per (variable, bin): bin label, WoE, coefficient and points.

        A citizen's points are the sum, over variables, of the points of its bins. The
        missing bin scores the empirical WoE of the training citizens with a missing value
        (0 if there were none); ``Special`` is unused (no special codes).
        """
        check_is_fitted(self, "scorecard_")
        table = self.scorecard_.table(style="detailed")
        out = pd.DataFrame({
            "variable": table["Variable"].to_numpy(),
            "bin": [b if isinstance(b, str) else ", ".join(map(str, np.ravel(b)))
                    for b in table["Bin"]],
            "count": table["Count"].to_numpy(dtype=np.int64),
            "event_rate": table["Event rate"].to_numpy(dtype=float),
            "woe": table["WoE"].to_numpy(dtype=float),
            "coefficient": table["Coefficient"].to_numpy(dtype=float),
            "points": table["Points"].to_numpy(dtype=float),
        })
        return out
