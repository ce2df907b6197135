"""An Explainable Boosting Machine: the glass-box additive family (interpret's EBM).

An EBM is a generalised additive model with a few pairwise interactions, each term a
shape function learned by cyclic gradient boosting on binned inputs (Lou, Caruana et
al. 2013; interpret's ``ExplainableBoostingClassifier``): the log-odds of default is

    intercept + sum_j f_j(x_j) + sum_(j,k) f_jk(x_j, x_k),

so it is read like a scorecard (points per bin of each input) while it learns the
shapes a scorecard's analyst would draw by hand. This class wraps interpret's classifier
in scorelab's contract:

* explained exactly (``explainer = "additive"``): :meth:`log_odds_contributions` gives
  each input its main term plus half of every pairwise term it is part of, so the
  intercept and the contributions add up to the log-odds (:meth:`decision_function`);
* its deliverable table is its shape functions in points of the run's scale
  (``points_table.csv``: every bin of every term, its log-odds and its points);
* ``monotone_constraints`` (column -> +1 / -1, as for the tree families: +1 = the risk
  can only rise with the column) are applied while fitting, by interpret itself, which
  also keeps a constrained input out of the pairwise interactions, so the model's whole
  response to it is its monotone shape function.

Fits on one thread by default (the fold engine parallelises folds and families).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from scorelab.core.numeric import sigmoid
from scorelab.models.base import LARGE_TABLE, Explainer, ScorelabClassifier
from scorelab.models.trees import TabularInputMixin, _check_param

__all__ = ["ExplainableBoostingFamily"]


class ExplainableBoostingFamily(TabularInputMixin, ScorelabClassifier):
    """An Explainable Boosting Machine (interpret), explained exactly by its terms.

    Parameters
    ----------
    max_bins : int, default 256
        Bins of each input's main shape function.
    max_interaction_bins : int, default 16
        Bins of each input in a pairwise term.
    interactions : int, default 10
        Pairwise interaction terms chosen by interpret (0: a purely additive model).
    outer_bags : int, default 8
        Bagged models averaged into each shape function (smoother shapes, slower fit).
    learning_rate : float, default 0.015
    max_rounds : int, default 5000
        Boosting rounds at most (early stopping usually ends sooner).
    early_stopping_rounds : int, default 50
    min_samples_leaf : int, default 4
    monotone_constraints : dict column -> +1 / -1, or None
        +1: the risk (log-odds of default) can only rise with the column; -1 only fall.
    pdo, odds, base_points : float
        The points scale of the deliverable table (a study sets the run's own).
    n_jobs : int, default 1
    random_state : int or None, default 0

    Fitted attributes: ``ebm_`` (interpret's fitted classifier), ``columns_``,
    ``categories_``, ``n_features_in_`` (and ``feature_names_in_`` on a DataFrame).
    """

    family: ClassVar[str] = "additive"
    kind: ClassVar[str] = "ebm"
    default_kind: ClassVar[bool] = True
    description: ClassVar[str] = (
        "a glass-box additive model (Explainable Boosting Machine): a boosted shape "
        "function per input and a few pairwise interactions, read like a scorecard")
    explainer: ClassVar[Explainer] = "additive"
    persisted_types: ClassVar[tuple[str, ...]] = (
        "interpret.glassbox._ebm._ebm.ExplainableBoostingClassifier",)
    param_maxima: ClassVar[Mapping[str, int]] = {
        **ScorelabClassifier.param_maxima, "max_bins": 100_000,
        "max_interaction_bins": 1_000, "interactions": 1_000,
        "outer_bags": 1_000, "max_rounds": 100_000}
    scale_params: ClassVar[Mapping[str, str]] = {
        "pdo": "pdo", "odds": "base_odds", "base_points": "base_score"}
    log_odds_neutral: ClassVar[tuple[str, ...]] = ("pdo", "odds", "base_points")
    search_space: ClassVar[dict[str, Any]] = {  # searched by evaluation.tuning
        "learning_rate": (0.005, 0.05, "log"), "interactions": (0, 20),
        "min_samples_leaf": (2, 50, "log")}

    def __init__(self, max_bins: int = 256, max_interaction_bins: int = 16,
                 interactions: int = 10, outer_bags: int = 8,
                 learning_rate: float = 0.015, max_rounds: int = 5000,
                 early_stopping_rounds: int = 50, min_samples_leaf: int = 4,
                 monotone_constraints: dict[str, int] | None = None, pdo: float = 50.0,
                 odds: float = 4.0, base_points: float = 600.0, n_jobs: int = 1,
                 random_state: int | None = 0) -> None:
        self.max_bins = max_bins
        self.max_interaction_bins = max_interaction_bins
        self.interactions = interactions
        self.outer_bags = outer_bags
        self.learning_rate = learning_rate
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.min_samples_leaf = min_samples_leaf
        self.monotone_constraints = monotone_constraints
        self.pdo = pdo
        self.odds = odds
        self.base_points = base_points
        self.n_jobs = n_jobs
        self.random_state = random_state

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        return {"max_bins": 16, "max_interaction_bins": 8, "interactions": 1, "outer_bags": 1,
                "max_rounds": 100, "early_stopping_rounds": 10, "min_samples_leaf": 2}

    @classmethod
    def sized_params(cls, n_rows: int) -> dict[str, Any]:
        """From :data:`~scorelab.models.base.LARGE_TABLE` rows, 2 outer bags: bagging
        smooths shape functions learned from few rows; on a 150,000-row table (fits on
        50,000) two bags gave the AUC of eight (0.835) in a quarter of the time."""
        return {"outer_bags": 2} if n_rows >= LARGE_TABLE else {}

    def _validate_params_values(self) -> None:
        owner = type(self).__name__
        _check_param("max_bins", self.max_bins, Integral, 3, owner=owner)
        _check_param("max_interaction_bins", self.max_interaction_bins, Integral, 3,
                     owner=owner)
        _check_param("interactions", self.interactions, Integral, 0, owner=owner)
        _check_param("outer_bags", self.outer_bags, Integral, 1, owner=owner)
        _check_param("learning_rate", self.learning_rate, Real, 0.0, low_open=True,
                     owner=owner)
        _check_param("max_rounds", self.max_rounds, Integral, 1, owner=owner)
        _check_param("early_stopping_rounds", self.early_stopping_rounds, Integral, 0,
                     owner=owner)
        _check_param("min_samples_leaf", self.min_samples_leaf, Integral, 1, owner=owner)
        _check_param("n_jobs", self.n_jobs, Integral, owner=owner)
        for name in ("pdo", "odds"):
            _check_param(name, getattr(self, name), Real, 0.0, low_open=True, owner=owner)
        if isinstance(self.base_points, bool) or not isinstance(self.base_points, Real) \
                or not math.isfinite(float(self.base_points)):
            raise ValueError(f"{owner}: parameter base_points must be a finite number; got "
                             f"{self.base_points!r}")
        signs = self.monotone_constraints or {}
        if not isinstance(signs, Mapping) or any(v not in (-1, 0, 1) for v in signs.values()):
            raise ValueError(f"{owner}: parameter monotone_constraints must map columns to "
                             f"+1, -1 or 0; got {self.monotone_constraints!r}")

    # ------------------------------------------------------------------ fit / predict
    def fit(self, X: Any, y: Any) -> ExplainableBoostingFamily:
        """Fit interpret's EBM on the inputs (categories as nominal features, NaN as
        missing, each in a bin of its own)."""
        from interpret.glassbox import ExplainableBoostingClassifier

        self._validate_params_values()
        frame, y01, _ = self._validate_fit(X, y)
        signs = self.monotone_constraints or {}
        unknown = [c for c in signs if c not in self.columns_]
        if unknown:
            raise ValueError(f"{type(self).__name__}: monotone_constraints names "
                             f"{unknown[0]!r}, which is not an input column")
        self.ebm_ = ExplainableBoostingClassifier(
            feature_names=list(self.columns_),
            feature_types=["nominal" if c in self.categories_ else "continuous"
                           for c in self.columns_],
            max_bins=self.max_bins, max_interaction_bins=self.max_interaction_bins,
            interactions=self.interactions,
            outer_bags=self.outer_bags, learning_rate=self.learning_rate,
            max_rounds=self.max_rounds, early_stopping_rounds=self.early_stopping_rounds,
            min_samples_leaf=self.min_samples_leaf,
            monotone_constraints=([int(signs.get(c, 0)) for c in self.columns_]
                                  if signs else None),
            n_jobs=self.n_jobs, random_state=self.random_state)
        with warnings.catch_warnings():  # about interpret's own plots, which are not used
            warnings.filterwarnings("ignore", message="Missing values detected",
                                    category=UserWarning)
            self.ebm_.fit(frame, y01)
        return self

    def _terms(self, X: Any) -> np.ndarray:
        """(rows, terms): each term's log-odds for every row of ``X``."""
        check_is_fitted(self, "ebm_")
        return np.asarray(self.ebm_.eval_terms(self._validate_predict(X)), dtype=float)

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of default: the intercept plus every term."""
        terms = self._terms(X)  # checks that it is fitted first
        return float(self.ebm_.intercept_[0]) + terms.sum(axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._proba_from_positive(sigmoid(self.decision_function(X)))

    # ------------------------------------------------------------------ explanations
    def log_odds_contributions(self, X: Any) -> pd.DataFrame:
        """An ``intercept`` column and one column per input: its main term plus half of
        each pairwise term it is part of; the row sums equal :meth:`decision_function`."""
        terms = self._terms(X)
        out = np.zeros((terms.shape[0], len(self.columns_)))
        for t, features in enumerate(self.ebm_.term_features_):
            for j in features:
                out[:, j] += terms[:, t] / len(features)
        frame = pd.DataFrame(out, columns=list(self.columns_))
        frame.insert(0, "intercept", float(self.ebm_.intercept_[0]))
        return frame

    def deliverable_tables(self) -> dict[str, pd.DataFrame]:
        """``points_table.csv``: every bin of every shape function with its log-odds and
        its points on the model's scale (more risk, fewer points); a pairwise term's
        rows name both inputs' bins."""
        check_is_fitted(self, "ebm_")
        factor = float(self.pdo) / math.log(2.0)
        rows = []
        for t, features in enumerate(self.ebm_.term_features_):
            scores = np.asarray(self.ebm_.term_scores_[t], dtype=float)
            labels = [self._bin_labels(j, len(features) > 1, scores.shape[k])
                      for k, j in enumerate(features)]
            for index in np.ndindex(scores.shape):
                value = float(scores[index])
                rows.append({"term": self.ebm_.term_names_[t],
                             "variable": self.columns_[features[0]],
                             "bin": labels[0][index[0]],
                             "other_variable": (self.columns_[features[1]]
                                                if len(features) > 1 else ""),
                             "other_bin": labels[1][index[1]] if len(features) > 1 else "",
                             "log_odds": value, "points": 0.0 - factor * value})
        intercept = float(self.ebm_.intercept_[0])
        rows.insert(0, {"term": "(intercept)", "variable": "", "bin": "", "other_variable": "",
                        "other_bin": "", "log_odds": intercept,
                        "points": float(self.base_points) - factor * (
                            intercept + math.log(float(self.odds)))})
        return {"points_table.csv": pd.DataFrame(rows)}

    def _bin_labels(self, feature: int, pair: bool, size: int) -> list[str]:
        """Labels of a term's bins along ``feature``: missing first, unseen last."""
        levels = self.ebm_.bins_[feature]
        edges = levels[min(1, len(levels) - 1)] if pair else levels[0]
        if isinstance(edges, dict):  # a nominal input: category -> bin
            inner = [str(c) for c, _ in sorted(edges.items(), key=lambda kv: kv[1])]
        else:
            cuts = [f"{c:g}" for c in np.asarray(edges, dtype=float)]
            bounds = ["-inf", *cuts, "inf"]
            inner = [f"[{a}, {b})" for a, b in zip(bounds, bounds[1:], strict=False)]
        labels = ["missing", *inner, "unseen"]
        return labels[:size] + [f"bin {i}" for i in range(len(labels), size)]
