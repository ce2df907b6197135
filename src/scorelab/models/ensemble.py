"""Ensemble selection (HCES-Bag of Lessmann et al. 2015): hill-climbing over the tuned
candidates' inner out-of-fold predictions, with bootstrap bagging.

Why: in the credit-scoring benchmarks that practitioners trust, heterogeneous ensembles
selected this way rank first, and by construction the selection can fall back to the
best single candidate, so it is never much worse than picking the best family.

How (all on the training rows it is given; nothing of a held-out fold is seen):

1. Library: every candidate family is tuned with the same budget on the same seeded
   inner folds (:func:`scorelab.models.tuning.search`); every trial is a library entry
   with its inner out-of-fold log-odds. A candidate without a search space is one entry.
   The ``library_size`` best entries by inner metric are kept (Caruana et al. 2004
   prune the library the same way).
2. Hill-climbing with replacement (Caruana et al. 2004), ``bags`` times, each time on a
   bootstrap sample of the rows: start from the best entry, then repeatedly add (again,
   possibly) the entry whose addition most improves the metric of the ensemble, for at
   most ``max_steps`` additions, stopping when none improves it. A bag's weights are the
   entries' counts over its additions; the final weights are the average over bags.
3. The entries with a weight are refitted on all the training rows.
4. The weighted log-odds are recalibrated, ``a + b * sum_m w_m z_m``, by a logistic
   regression on the library's inner out-of-fold log-odds (never in-sample ones): AUC,
   the usual selection metric, is blind to scale, so a near-constant member can take
   weight and shrink the log-odds towards the base rate without changing the ranking.

The ensemble averages the members' **log-odds**: ``f(x) = a + b * sum_m w_m * z_m(x)``
with ``sum_m w_m = 1`` (a weighted geometric pooling of the odds, recalibrated). Because
``f`` is affine in the members' log-odds, and SHAP values are linear in the explained
function, the ensemble's SHAP values on the log-odds scale are exactly
``b * sum_m w_m * phi_m`` with base ``a + b * sum_m w_m * base_m``, and they add up to
``f(x)`` whenever each member's do
(``scorelab.explain``). Averaging probabilities instead (Caruana's original) would not
decompose exactly on the log-odds scale.

Fitted attributes: ``members_`` (list of dicts: ``candidate``, ``params``, ``weight``,
``inner_score``), ``estimators_`` (the refitted members, in that order), ``weights_``,
``calibration_`` (``(a, b)``), ``searches_`` (candidate -> its search as plain data,
:meth:`Search.record`), ``inner_score_``
(the selected ensemble's inner out-of-fold metric) and ``best_inner_score_`` (that of
the best single library entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from scorelab.core.numeric import sigmoid
from scorelab.exceptions import ConfigError
from scorelab.models.base import Explainer, check_params
from scorelab.models.hybrid import _EstimatorList, _HybridBase, _seeded, log_odds_of
from scorelab.models.logit import LogitScorecard
from scorelab.models.neural import MLPFamily
from scorelab.models.trees import LightGBMFamily, RandomForestFamily, _check_param
from scorelab.models.tuning import (
    METRICS,
    Search,
    declared_space,
    inner_splits,
    resolve_space,
    score_rows,
    search,
    search_key,
)

__all__ = ["EnsembleSelectionHybrid", "hill_climb"]


def hill_climb(log_odds: np.ndarray, y01: np.ndarray, metric: str, max_steps: int,
               threshold: float | None = None) -> np.ndarray:
    """Caruana's forward selection with replacement: counts per library entry.

    ``log_odds`` is entries x rows. Each step scores every possible addition at once
    (one vectorised pass over the entries) and keeps the best one, if it improves.
    """
    greater = METRICS[metric]
    sign = 1.0 if greater else -1.0
    single = sign * score_rows(log_odds, y01, metric, threshold)
    counts = np.zeros(log_odds.shape[0], dtype=np.int64)
    first = int(np.argmax(single))
    counts[first] = 1
    total, best = log_odds[first].copy(), single[first]
    for step in range(2, int(max_steps) + 1):
        trial = sign * score_rows((total + log_odds) / step, y01, metric, threshold)
        pick = int(np.argmax(trial))
        if not trial[pick] > best:
            break
        counts[pick] += 1
        total += log_odds[pick]
        best = trial[pick]
    return counts


class EnsembleSelectionHybrid(_EstimatorList, _HybridBase):
    """HCES-Bag: hill-climbing ensemble selection with bagging over tuned candidates.

    Parameters
    ----------
    estimators : list of (name, estimator) or None, default None
        Candidate families; None means logit (``LogitScorecard()``), lightgbm, forest and
        mlp. Each is tuned over its class's ``search_space`` with ``budget`` trials.
    budget : int, default 10
        Candidate configurations per family (the study sets its ``evaluation.tuning``
        budget here, so the ensemble's candidates are tuned like the families).
    inner_folds : int, default 3
        K of the inner stratified folds giving the library's out-of-fold predictions.
    metric : "auc", "brier" or "expected_cost", default "auc"
        What the search and the hill-climbing optimise.
    threshold : float or None
        P(default) of the study's cut-off (the expected-cost metric only).
    bags : int, default 10
        Bootstrap samples of the rows, each hill-climbed independently.
    max_steps : int, default 25
        Most additions per bag.
    library_size : int, default 20
        Library entries kept (best first) before hill-climbing.
    spaces : dict or None, default None
        Candidate name -> ranges replacing its class's (as a model's ``search_space``:
        parameter -> ``{low, high, log}`` or ``{choices}``; others keep their range).
    random_state : int, default 0
        Seeds the inner folds, the searches and the bootstrap.
    """

    kind: ClassVar[str] = "hces_bag"
    description: ClassVar[str] = (
        "a hybrid by ensemble selection (HCES-Bag): hill-climbing over tuned families' "
        "out-of-fold log-odds with bagging, its weights averaging the members' log-odds")
    explainer: ClassVar[Explainer] = "ensemble"
    param_maxima: ClassVar[Mapping[str, int]] = {
        **_HybridBase.param_maxima, "budget": 10_000, "bags": 1_000, "max_steps": 10_000,
        "library_size": 10_000}

    def __init__(self, estimators: list[tuple[str, Any]] | None = None, budget: int = 10,
                 inner_folds: int = 3, metric: str = "auc", threshold: float | None = None,
                 bags: int = 10, max_steps: int = 25, library_size: int = 20,
                 spaces: dict[str, Any] | None = None, random_state: int | None = 0) -> None:
        self.estimators = estimators
        self.budget = budget
        self.inner_folds = inner_folds
        self.metric = metric
        self.threshold = threshold
        self.bags = bags
        self.max_steps = max_steps
        self.library_size = library_size
        self.spaces = spaces
        self.random_state = random_state

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """Two logistic regressions, no search space: one trial each (fast)."""
        return {"estimators": [("lr", LogisticRegression()),
                               ("lr_strong", LogisticRegression(C=0.01))],
                "inner_folds": 2, "bags": 1}

    def _candidates(self) -> list[tuple[str, Any]]:
        if self.estimators is None:
            return [(name, _seeded(est, self._seed(), default=True)) for name, est in
                    (("logit", LogitScorecard()), ("lightgbm", LightGBMFamily()),
                     ("forest", RandomForestFamily()), ("mlp", MLPFamily()))]
        return [(n, _seeded(e, self._seed(), default=False)) for n, e in self._named_pairs()]

    def _space(self, name: str, estimator: Any) -> Any:
        """The candidate's search space: its class's, with ``spaces[name]`` applied."""
        override = (self.spaces or {}).get(name)
        if not override:
            return declared_space(estimator)
        try:
            return resolve_space(name, estimator, override, where=f"spaces.{name}")
        except ConfigError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None

    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    def _validate_params_values(self) -> None:
        owner = type(self).__name__
        self._check_inner_folds()
        for name in ("budget", "bags", "max_steps", "library_size"):
            _check_param(name, getattr(self, name), Integral, 1, owner=owner)
        if self.metric not in METRICS:
            raise ValueError(f"{owner}: parameter metric must be one of "
                             f"{', '.join(METRICS)}; got {self.metric!r}")
        if self.metric == "expected_cost" or self.threshold is not None:
            _check_param("threshold", self.threshold, Real, 0.0, 1.0, low_open=True,
                         owner=owner)
        candidates = self._candidates()
        unknown = sorted(set(self.spaces or {}) - {n for n, _ in candidates})
        if unknown:
            raise ValueError(f"{owner}: spaces names unknown candidate(s) {unknown}; "
                             f"candidates: {', '.join(n for n, _ in candidates)}")
        for name, est in candidates:
            self._space(name, est)
            check_params(est)

    def fit(self, X: Any, y: Any, searches: Mapping[str, Search] | None = None
            ) -> EnsembleSelectionHybrid:
        """Tune every candidate on inner folds, then hill-climb over their inner
        out-of-fold predictions. ``searches`` (:func:`search_key` -> search) are searches
        already run on these rows, such as a study's tuned families on the same fold: a
        candidate whose key is there reuses it instead of searching again (the same
        trials and numbers it would find)."""
        self._validate_params_values()
        candidates = self._candidates()
        frame, y01, _ = self._validate_fit(X, y)
        seed = self._seed()
        splits = inner_splits(y01, self.inner_folds, seed)
        given = searches or {}
        searches, entries = {}, []
        self.reused_searches_ = []
        for name, est in candidates:
            space = self._space(name, est)
            key = search_key(est, space, list(frame.columns), len(frame), budget=self.budget,
                             inner_folds=self.inner_folds, metric=self.metric, seed=seed,
                             threshold=self.threshold)
            found = given.get(key) if key is not None else None
            if found is not None:
                self.reused_searches_.append(name)
            else:
                found = search(est, space, frame, y01, budget=self.budget,
                               inner_folds=self.inner_folds, metric=self.metric, seed=seed,
                               threshold=self.threshold, splits=splits)
            searches[name] = found
            entries += [(name, est, t) for t in found.trials]
        entries = _distinct(entries)
        greater = METRICS[self.metric]
        order = np.argsort([-t.score if greater else t.score for _, _, t in entries],
                           kind="stable")[:self.library_size]
        entries = [entries[i] for i in order]
        library = np.vstack([t.log_odds for _, _, t in entries])
        weights = np.zeros(len(entries))
        rng = np.random.default_rng(seed)
        for _ in range(self.bags):
            rows = rng.integers(0, y01.size, y01.size)
            while np.unique(y01[rows]).size < 2:  # a bag needs both classes
                rows = rng.integers(0, y01.size, y01.size)
            counts = hill_climb(library[:, rows], y01[rows], self.metric, self.max_steps,
                                self.threshold)
            weights += counts / counts.sum()
        weights /= self.bags
        kept = np.flatnonzero(weights > 0)
        self.members_ = [{"candidate": entries[i][0],
                          "params": dict(entries[i][2].params),
                          "weight": float(weights[i]), "inner_score": entries[i][2].score}
                         for i in kept]
        self.weights_ = weights[kept]
        self.estimators_ = [clone(entries[i][1]).set_params(**entries[i][2].params)
                            .fit(frame, y01) for i in kept]
        pooled = self.weights_ @ library[kept]
        platt = LogisticRegression(C=1e6).fit(pooled.reshape(-1, 1), y01)
        self.calibration_ = (float(platt.intercept_[0]), float(platt.coef_[0, 0]))
        self.searches_ = {name: found.record() for name, found in searches.items()}
        a, b = self.calibration_
        self.inner_score_ = float(score_rows(a + b * pooled, y01, self.metric,
                                             self.threshold)[0])
        self.best_inner_score_ = float(entries[0][2].score)
        return self

    def member_log_odds(self, X: Any) -> np.ndarray:
        """The members' log-odds, one column per member (weights in ``weights_``)."""
        check_is_fitted(self, "estimators_")
        frame = self._validate_predict(X)
        return np.column_stack([log_odds_of(est, frame) for est in self.estimators_])

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of default: the recalibrated weighted average of the members'."""
        check_is_fitted(self, "calibration_")
        a, b = self.calibration_
        return a + b * (self.member_log_odds(X) @ self.weights_)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._proba_from_positive(sigmoid(self.decision_function(X)))


def _distinct(entries: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """Library entries without repeats (a configuration the sampler proposed twice)."""
    seen, out = set(), []
    for name, est, trial in entries:
        key = (name, repr(sorted(trial.params.items())))
        if key not in seen:
            seen.add(key)
            out.append((name, est, trial))
    return out
