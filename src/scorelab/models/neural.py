"""The neural family: a multilayer perceptron on standardised inputs.

Inside, a scikit-learn pipeline: numeric columns are median-imputed with a missing
indicator per column that had missing values at fit time (a thin file is information,
not noise) and standardised; categorical columns are one-hot encoded (an unseen
category is all zeros); then :class:`sklearn.neural_network.MLPClassifier` with early
stopping on a stratified validation share of the training rows.

No warning is silenced: with the defaults, early stopping ends training well before
``max_iter`` on the default population. A ``ConvergenceWarning`` (training stopped by
``max_iter``) is passed on to the caller, who set ``max_iter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from scorelab.models.base import ScorelabClassifier
from scorelab.models.trees import TabularInputMixin, _check_param

__all__ = ["MLPFamily", "make_preprocessor"]

#: ``hidden_layer_sizes``: at most this many layers of at most this many units (checked by
#: the config wherever the parameter appears, as the families' ``param_maxima`` are).
MAX_HIDDEN_LAYERS, MAX_LAYER_UNITS = 10, 10_000


def make_preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Median imputation + missing indicators + scaling; one-hot for categories."""
    parts = []
    if numeric:
        parts.append(("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                                         keep_empty_features=True),
                                           StandardScaler()), numeric))
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                      categorical))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def _as_object_categories(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Categorical columns as object arrays with NaN for missing (what OneHotEncoder reads)."""
    if not categorical:
        return frame
    return frame.assign(**{
        c: frame[c].astype(object).where(frame[c].notna(), np.nan) for c in categorical})


class MLPFamily(TabularInputMixin, ScorelabClassifier):
    """A multilayer perceptron (scikit-learn) with its own preprocessing.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (64,)
        Units per hidden layer (ReLU).
    alpha : float, default 1e-3
        L2 penalty.
    learning_rate_init : float, default 1e-3
        Initial step of the Adam optimiser.
    max_iter : int, default 200
        Maximum number of epochs.
    early_stopping : bool, default True
        Hold out ``validation_fraction`` of the training rows (stratified) and stop when
        the validation score has not improved for 10 epochs. Switched off automatically
        when the training set is too small to hold out at least two rows of each class
        (recorded in ``early_stopping_``).
    validation_fraction : float, default 0.1
        Share of training rows held out for early stopping.
    random_state : int or None, default 0
        Seed of weight initialisation, batches and the validation split.

    Fitted attributes: ``pipeline_`` (preprocessor + ``MLPClassifier``), ``network_``
    (the fitted ``MLPClassifier``), ``early_stopping_``, ``columns_``, ``categories_``,
    ``n_iter_`` (epochs run), ``n_features_in_`` (and ``feature_names_in_`` when fitted on
    a DataFrame).
    """

    family: ClassVar[str] = "neural"
    kind: ClassVar[str] = "mlp"
    default_kind: ClassVar[bool] = True
    description: ClassVar[str] = "a multilayer perceptron on standardised inputs"
    persisted_types: ClassVar[tuple[str, ...]] = (
        "sklearn.compose._column_transformer.ColumnTransformer",
        "sklearn.impute._base.MissingIndicator", "sklearn.impute._base.SimpleImputer",
        "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.pipeline.Pipeline", "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._encoders.OneHotEncoder",
        "sklearn.preprocessing._label.LabelBinarizer", "numpy.dtype")
    param_maxima: ClassVar[Mapping[str, int]] = {
        **ScorelabClassifier.param_maxima, "max_iter": 100_000}
    search_space: ClassVar[dict[str, Any]] = {  # searched by evaluation.tuning
        "hidden_layer_sizes": [(16,), (32,), (64,), (64, 32)],
        "alpha": (1e-5, 10.0, "log"), "learning_rate_init": (1e-3, 3e-2, "log")}

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (64,), alpha: float = 1e-3,
                 learning_rate_init: float = 1e-3, max_iter: int = 200,
                 early_stopping: bool = True, validation_fraction: float = 0.1,
                 random_state: int | None = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        return {"hidden_layer_sizes": (16,), "max_iter": 300, "learning_rate_init": 1e-2}

    def _validate_params_values(self) -> None:
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else sizes
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = None
        if not sizes or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                                for s in sizes):
            raise ValueError(f"{owner}: parameter hidden_layer_sizes must be a non-empty tuple "
                             f"of positive ints; got {self.hidden_layer_sizes!r}")
        _check_param("alpha", self.alpha, Real, 0.0, owner=owner)
        _check_param("learning_rate_init", self.learning_rate_init, Real, 0.0, low_open=True,
                     owner=owner)
        _check_param("max_iter", self.max_iter, Integral, 1, owner=owner)
        _check_param("validation_fraction", self.validation_fraction, Real, 0.0, 1.0,
                     low_open=True, owner=owner)
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"{owner}: parameter validation_fraction must be in (0, 1); got "
                             f"{self.validation_fraction!r}")
        if not isinstance(self.early_stopping, bool | np.bool_):
            raise ValueError(f"{owner}: parameter early_stopping must be a bool; got "
                             f"{self.early_stopping!r}")

    def _can_early_stop(self, y01: np.ndarray) -> bool:
        if not self.early_stopping:
            return False
        n_valid = int(np.ceil(self.validation_fraction * y01.size))
        counts = np.bincount(y01, minlength=2)
        return bool(n_valid >= 2 and y01.size - n_valid >= 2 and counts.min() >= 2)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPFamily:
        self._validate_params_values()
        frame, y01, weights = self._validate_fit(X, y, sample_weight)
        categorical = list(self.categories_)
        self.early_stopping_ = self._can_early_stop(y01)
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        network = MLPClassifier(
            hidden_layer_sizes=sizes, alpha=self.alpha,
            learning_rate_init=self.learning_rate_init, max_iter=self.max_iter,
            early_stopping=self.early_stopping_,
            validation_fraction=self.validation_fraction, random_state=self.random_state)
        pipeline = Pipeline([
            ("prep", make_preprocessor(self.numeric_columns_, categorical)),
            ("mlp", network),
        ])
        fit_params = {} if weights is None else {"mlp__sample_weight": weights}
        pipeline.fit(_as_object_categories(frame, categorical), y01, **fit_params)
        self.pipeline_ = pipeline
        self.network_ = pipeline.named_steps["mlp"]
        self.n_iter_ = self.network_.n_iter_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        frame = self._validate_predict(X)
        data = _as_object_categories(frame, list(self.categories_))
        return self._proba_from_positive(self.pipeline_.predict_proba(data)[:, 1])
