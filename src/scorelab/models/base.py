"""What every family shares: the scikit-learn contract, and the family's description of
itself.

A family is a ``ClassifierMixin, BaseEstimator`` whose ``predict_proba(X)[:, 1]`` is the
probability of default (label 1). ``X`` may be a pandas DataFrame (categorical columns as
``category`` dtype, missing values as NaN) or a numeric array (columns named x0, x1, ...).

A family class says once, as class attributes, everything the rest of scorelab needs to
know of it: the config's family and kind names, a sentence for its model card, how it
is explained, the types a saved instance holds, the bounds of its costly parameters and
its small test settings (:class:`ScorelabClassifier`). The registry
(:mod:`scorelab.models.registry`) is one list of such classes; the config's family
names, the trusted types of saved models, the cards and the common tests are read from
it, never restated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from scorelab.core.numeric import MAX_SEED
from scorelab.models.plain import from_plain, to_plain

#: How :func:`scorelab.explain.explain` explains a family exactly (``agnostic``: by a
#: budgeted sampling explainer, as where no exact one exists):
#: ``additive`` (``log_odds_contributions``: an intercept and one term per input),
#: ``linear`` (``contributions``: coefficient x transformed input), ``tree``
#: (``pred_contrib``: TreeSHAP), ``network`` (DeepSHAP through ``network_``, an
#: ``MLPClassifier``), the hybrids' decompositions through their members:
#: ``expert_boost``, ``stacking``, ``ensemble``, and ``shifted`` (a threshold variant:
#: its base model's explanation plus its age band's shift).
Explainer = Literal["additive", "linear", "tree", "expert_boost", "stacking", "ensemble",
                    "network", "shifted", "agnostic"]


def as_frame(X: Any, columns: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame view of ``X``; arrays get ``columns`` or names x0, x1, ..."""
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead; reshape your data.")
    names = columns if columns is not None else [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=names)


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    """Columns to treat as categories: category, object, string or bool dtype."""
    return [c for c in frame.columns
            if isinstance(frame[c].dtype, pd.CategoricalDtype)
            or frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
            or pd.api.types.is_bool_dtype(frame[c])]


def estimator_identity(estimator: Any) -> str | None:
    """An estimator's class and parameters in full, nested estimators spelled out (never
    truncated as ``repr`` truncates; arrays by their bytes): two estimators with the same
    identity fit the same model on the same rows. The key under which a fit or a search
    is shared; None when a parameter is not a plain value (a ``RandomState``, a
    callable...), whose state no key can capture: such an estimator is never shared.
    A family's ``log_odds_neutral`` parameters (presentation only, such as a scorecard's
    points scale) are left out: they change no log-odds, so neither a fit's scores nor a
    search's trials."""
    def spelled(value: Any) -> Any:
        if isinstance(value, BaseEstimator):
            neutral = getattr(value, "log_odds_neutral", ())
            return (type(value).__module__, type(value).__qualname__,
                    [(k, spelled(v)) for k, v in sorted(value.get_params(deep=False).items())
                     if k not in neutral])
        if isinstance(value, list | tuple):
            return (type(value).__name__, [spelled(v) for v in value])
        if isinstance(value, dict):
            return ("dict", sorted((repr(k), spelled(v)) for k, v in value.items()))
        if isinstance(value, np.ndarray):
            return ("ndarray", value.dtype.str, value.shape,
                    hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest())
        if value is None or isinstance(value, bool | int | float | str | np.generic):
            return value
        raise _Unshareable

    try:
        return repr(spelled(estimator))
    except _Unshareable:
        return None


def check_params(estimator: Any) -> None:
    """Run ``estimator``'s own checks of its parameter values, without data (ValueError or
    TypeError naming the parameter). Every scorelab family has them; another estimator
    (a scikit-learn component of a hybrid) is checked when it is fitted."""
    check = getattr(estimator, "_validate_params_values", None)
    if callable(check):
        check()


#: Tables below this many rows are small: the families that size themselves regularise
#: more (a network of 16 units with strong L2, shallow trees), as on German credit's 1,000.
SMALL_TABLE = 5_000
#: Tables of at least this many rows are large: deeper trees with bigger leaves, fewer
#: inner folds in the hybrids, fewer bags in the EBM (each fit sees enough rows).
LARGE_TABLE = 50_000


class _Unshareable(Exception):
    """A parameter no identity can capture (see :func:`estimator_identity`)."""


class ScorelabClassifier(ClassifierMixin, BaseEstimator):
    """Base of every family: binary targets, ``classes_``, and the family's description.

    A concrete family sets the class attributes below (``family``, ``kind`` and
    ``description`` at least) and is listed once in :mod:`scorelab.models.registry`.
    """

    #: The config's family name (``models[].family``).
    family: ClassVar[str] = "base"
    #: The config's kind within the family (``models[].kind``).
    kind: ClassVar[str] = ""
    #: The kind a config gets when it names the family only (one per family).
    default_kind: ClassVar[bool] = False
    #: What the model is, for its card: a phrase that follows "this model is".
    description: ClassVar[str] = ""
    explainer: ClassVar[Explainer] = "agnostic"
    #: Types a saved (skops) instance holds beyond scorelab's own classes, builtins and
    #: numpy arrays; saved models naming any other type are refused when loaded.
    persisted_types: ClassVar[tuple[str, ...]] = ()
    #: Upper bounds of the parameters that set how much work a fit does, checked by the
    #: config wherever the parameter appears (also in a hybrid's components).
    param_maxima: ClassVar[Mapping[str, int]] = {"n_jobs": 1_024, "random_state": MAX_SEED}
    #: Parameters that take the run's score scale (``param -> pdo | base_score |
    #: base_odds``), so that the model's deliverable table is in the run's points.
    scale_params: ClassVar[Mapping[str, str]] = {}
    #: Parameters that change no log-odds (see :func:`estimator_identity`).
    log_odds_neutral: ClassVar[tuple[str, ...]] = ()
    #: The parameter whose default is written for the synthetic population's columns (an
    #: expert's rules): on a real table the config must give it, or the model is skipped.
    synthetic_default: ClassVar[str | None] = None

    @classmethod
    def rule_tables(cls, params: Mapping[str, Any]) -> list[tuple[str, dict[Any, Any]]]:
        """``(config key, {column: rule})`` of every rule table in a config's ``params``:
        the columns and values they name are checked against the data before fitting."""
        return []

    def _validate_params_values(self) -> None:
        """Check the parameter values without data (ValueError or TypeError naming the
        parameter and what is valid): a config's mistake is refused before any fit."""
        raise NotImplementedError(f"{type(self).__name__} must check its parameter values")

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """Small, fast settings of this family for the common tests (scikit-learn's
        estimator checks on their generic columns ``x0``, ``col_0``, ...)."""
        return {}

    @classmethod
    def sized_params(cls, n_rows: int) -> dict[str, Any]:
        """The parameters whose good value depends on the size of the table, for a table
        of ``n_rows`` rows (bands: below :data:`SMALL_TABLE`, from :data:`LARGE_TABLE`):
        a study on a table gives them to each model whose config does not set them, and
        the model card says so. None by default (the defaults fit every size)."""
        return {}

    def trains_on_every_row(self) -> bool:
        """Whether it trains on every training citizen whatever ``compute.sample_size``
        (a family that gains from every row); by default it trains on the seeded sample."""
        return False

    def deliverable_tables(self) -> dict[str, pd.DataFrame]:
        """The tables a fitted model delivers beside its file, e.g. a scorecard's points
        table (file name -> table; written as CSV into ``models/<name>/``)."""
        return {}

    def _check_targets(self, y: Any) -> np.ndarray:
        """Validate a binary target; store ``classes_``; return y as 0/1 (1 = classes_[1])."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if type_of_target(y) != "binary" or self.classes_.size != 2:
            raise ValueError(
                f"{type(self).__name__} needs a binary target with two classes; got "
                f"{self.classes_.size} class(es): {self.classes_[:5].tolist()}")
        return (y == self.classes_[1]).astype(np.int64)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= 0.5).astype(int)]

    def __getstate__(self) -> dict[str, Any]:
        """The state with pandas objects as plain data (skops cannot store pandas)."""
        return to_plain(super().__getstate__())

    def __setstate__(self, state: dict[str, Any]) -> None:
        """The state of :meth:`__getstate__`, its pandas objects rebuilt."""
        super().__setstate__(from_plain(state))

    def _proba_from_positive(self, p1: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "classes_")
        p1 = np.clip(np.asarray(p1, dtype=float), 0.0, 1.0)
        return np.column_stack([1.0 - p1, p1])
