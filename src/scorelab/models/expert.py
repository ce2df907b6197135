"""The expert family: hand-written point systems from the seed paper (section 4).

Two rule-based scores, neither learned from the labels except for one monotone map from
points to a probability of default:

* :class:`SuiningPoints` -- the Suining county pilot: every citizen starts at 1000 points
  and gains or loses a fixed number of points per recorded event; categories A-D.
* :class:`SesameScore` -- a Sesame-Credit-style composite of five weighted factors on
  the 350-950 scale.

Points become a probability through Platt scaling: a 1-D logistic regression of the
label on the points, fitted on the training data only. Because the calibrator is
``log-odds = a + b * points`` and the points are a sum over rules, the log-odds are
*exactly* additive over rules (``explainer = "exact-additive"``): the log-odds
contribution of a rule is ``b`` times its points. The calibrator is monotone in the
points; its slope is whatever the training data say. A positive slope (more points,
more risk) is kept, not flipped: it means the rules rank citizens the wrong way round
on that data, which is a finding to report, not to hide.

Input conventions shared by every family here (``_ValidatedClassifier``):

* ``X`` is a DataFrame (categorical columns as ``category`` dtype, NaN for missing) or
  a numeric array, whose columns are then named ``x0, x1, ...`` (or, when the model was
  fitted on a DataFrame, the fitted column names, with scikit-learn's usual warning).
* At fit time any set of columns is accepted: rules for absent columns are ignored
  and listed. At predict time the columns must be the fitted ones, in the same order
  (scikit-learn's feature-name contract), so a model cannot silently score a
  different table.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from scorelab.core.numeric import sigmoid
from scorelab.models.base import Explainer, ScorelabClassifier, as_frame, categorical_columns

__all__ = ["SUINING_RULES", "SESAME_FACTORS", "SESAME_WEIGHTS", "SuiningPoints",
           "SesameScore", "platt_fit"]

# ---------------------------------------------------------------------------------------
# Suining county (paper, section 4): start at 1000; "an exemplary employee was rewarded
# with 30 or 50 points, a citizen could be fined 20 points for violating traffic rules,
# and 50 points for non-payment of a debt to a bank". The paper's three figures are used
# as given (30, the lower of the two award values, per award). The other event columns
# of the population get points by analogy with them:
#   tax_arrears      -50  an unpaid debt to the state weighs as much as one to a bank;
#   court_judgments -100  an adjudicated breach is graver than an unpaid debt (twice it);
#   late_payments    -10  paying late is a lesser fault than not paying (a fifth of it)
#                         and than a traffic violation (half of it);
#   flagged_posts    -10  online misconduct, the minor end of the scale (SCS collects
#                         social-network data, section 4).
# Deliberately without points: insurance_claims (filing a claim is a right, not
# misconduct), and the prohibited situational_events / health_events (the paper: an SCS
# must not count natural phenomena and diseases, suggestions 4-5).
SUINING_RULES: dict[str, float] = {
    "exemplary_conduct": 30.0,
    "traffic_violations": -20.0,
    "unpaid_debts": -50.0,
    "tax_arrears": -50.0,
    "court_judgments": -100.0,
    "late_payments": -10.0,
    "flagged_posts": -10.0,
}
SUINING_START = 1000.0
# Paper: A >= 960, B 850-959, C 600-849, D <= 599 (integer points). For non-integer points
# the lower bounds decide: B is [850, 960), C is [600, 850), D is below 600.
SUINING_CATEGORIES: tuple[tuple[str, float], ...] = (("A", 960.0), ("B", 850.0), ("C", 600.0))

# ---------------------------------------------------------------------------------------
# Sesame Credit (paper, section 4): 350-950 points from five factors. Each factor is a
# signed combination of standardised columns (+1: more is safer, -1: more is riskier).
# friends_avg_score is prohibited in the population (suggestion 2); it enters the
# relationships factor only when a config puts it into X.
SESAME_FACTORS: dict[str, dict[str, float]] = {
    "credit_history": {"credit_history_years": 1.0, "late_payments": -1.0,
                       "unpaid_debts": -1.0, "bill_payment_regularity": 1.0},
    "behaviour_preferences": {"online_purchase_regularity": 1.0, "utilisation": -1.0},
    "fulfilment_capacity": {"income": 1.0, "debt_to_income": -1.0, "employment_years": 1.0},
    "personal_characteristics": {"education": 1.0, "tax_arrears": -1.0,
                                 "court_judgments": -1.0},
    "interpersonal_relationships": {"social_degree": 1.0, "flagged_posts": -1.0,
                                    "friends_avg_score": 1.0},
}
# Sesame does not publish its algorithm (paper, section 4). These are the factor weights
# commonly reported for it; published figures vary between sources, so they are a
# parameter (``weights``), not a fact.
SESAME_WEIGHTS: dict[str, float] = {
    "credit_history": 35.0, "behaviour_preferences": 20.0, "fulfilment_capacity": 25.0,
    "personal_characteristics": 10.0, "interpersonal_relationships": 10.0,
}
SESAME_LOW, SESAME_CENTRE, SESAME_HIGH = 350.0, 650.0, 950.0
SESAME_POINTS_PER_SD = 100.0  # 350-950 = centre +- 3 training standard deviations


# ---------------------------------------------------------------------------------------
# Shared machinery (also used by scorelab.models.logit).

def platt_fit(scores: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Platt scaling: ``(a, b)`` with ``P(y=1) = sigmoid(a + b * scores)``.

    Newton-Raphson on the cross-entropy against Platt's (1999) smoothed targets
    ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)``, which keep the solution finite even when
    the scores separate the classes. The scores are standardised internally for numerical
    stability and the result is mapped back, so ``a + b * scores`` is the log-odds.
    Deterministic; a constant score gets slope 0 and the smoothed base rate.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=float)
    n_pos = float(y.sum())
    n_neg = float(y.size - n_pos)
    t = np.where(y > 0, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    mu = float(s.mean())
    sd = float(s.std())
    if not np.isfinite(sd) or sd <= 1e-12 * max(1.0, abs(mu)):
        p = float(t.mean())
        return math.log(p) - math.log1p(-p), 0.0
    z = (s - mu) / sd
    design = np.column_stack([np.ones_like(z), z])

    def loss(theta: np.ndarray) -> float:
        eta = design @ theta
        # cross-entropy with soft targets: log(1 + e^eta) - t * eta, computed stably
        return float(np.sum(np.logaddexp(0.0, eta) - t * eta))

    p0 = float(t.mean())
    theta = np.array([math.log(p0) - math.log1p(-p0), 0.0])
    current = loss(theta)
    for _ in range(max_iter):
        p = sigmoid(design @ theta)
        grad = design.T @ (p - t)
        w = p * (1.0 - p)
        hess = (design * w[:, None]).T @ design + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while True:
            candidate = theta - scale * step
            new = loss(candidate)
            if new <= current or scale < 1e-10:
                break
            scale *= 0.5
        theta, improvement = candidate, current - new
        current = new
        if np.max(np.abs(scale * step)) < 1e-12 or improvement < 1e-14 * max(1.0, current):
            break
    slope = float(theta[1] / sd)
    return float(theta[0] - slope * mu), slope


class _ValidatedClassifier(ScorelabClassifier):
    """Input and target validation following scikit-learn's conventions.

    (Shared by the expert and logit families; a candidate for ``base.py``.)
    """

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing (thin files)
        tags.classifier_tags.multi_class = False
        return tags

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """``X`` as a DataFrame; records (``reset``) or checks the fitted columns."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a "
                                 f"minimum of 1 is required by {type(self).__name__}.")
            if not hasattr(self, "feature_names_in_"):  # non-string column labels
                return X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
            return X
        arr = validate_data(self, X, reset=reset, dtype=np.float64,
                            ensure_all_finite="allow-nan")
        names = list(self.feature_names_in_) if hasattr(self, "feature_names_in_") else None
        return as_frame(arr, columns=names)

    def _targets(self, y: Any, frame: pd.DataFrame) -> np.ndarray:
        """A binary target as 0/1 (1 = ``classes_[1]``), with scikit-learn's messages."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None.")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. "
                          "Please change the shape of y to (n_samples,), for example "
                          "using ravel().", DataConversionWarning, stacklevel=3)
            y = y.ravel()
        if y.dtype.kind == "f":  # sklearn's messages for NaN / infinite labels
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise ValueError("Only binary classification is supported. The type of the "
                             f"target is {y_type}.")
        check_consistent_length(frame, y)
        return self._check_targets(y)

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where the log-odds are positive (ties go to ``classes_[0]``, as
        ``argmax`` of :meth:`predict_proba` does)."""
        positive = np.asarray(self.decision_function(X)) > 0
        return self.classes_[positive.astype(int)]

    def _proba(self, log_odds: np.ndarray) -> np.ndarray:
        return self._proba_from_positive(sigmoid(log_odds))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: P(classes_[0]), P(classes_[1]); column 1 is the probability of default."""
        return self._proba(self.decision_function(X))

    def decision_function(self, X: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _numeric_block(frame: pd.DataFrame, columns: list[str], what: str) -> np.ndarray:
    """The used columns as a float matrix; categorical or infinite values are errors."""
    cats = set(categorical_columns(frame)) & set(columns)
    if cats:
        raise ValueError(f"{what}: columns {sorted(cats)} are categorical; rules need "
                         "numeric columns")
    block = frame[columns].to_numpy(dtype=float, na_value=np.nan) if columns else \
        np.zeros((len(frame), 0))
    if np.isinf(block).any():
        bad = [c for c, col in zip(columns, block.T, strict=True) if np.isinf(col).any()]
        raise ValueError(f"{what}: Input X contains infinity in columns {bad}")
    return block


def _is_number_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _value_points(column: pd.Series, rule: Mapping[Any, float], categorical: bool
                  ) -> np.ndarray:
    """Points of each row's value under a value -> points rule (0: not listed, missing).

    Categorical values are matched as text, numeric values as numbers.
    """
    if categorical:
        present = column.notna().to_numpy()
        keys = column.astype(object).where(column.notna(), None).map(
            lambda v: None if v is None else str(v))
        table = {str(k): float(p) for k, p in rule.items()}
        points = keys.map(table).to_numpy(dtype=float, na_value=np.nan)
        return np.where(present, np.nan_to_num(points, nan=0.0), 0.0)
    values = column.to_numpy(dtype=float, na_value=np.nan)
    points = np.zeros(values.shape)
    for key, p in rule.items():
        points[values == float(key)] = float(p)
    return points


def _check_real(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{what} must be a finite real number; got {value!r}")
    return float(value)


class _PointsModel(_ValidatedClassifier):
    """An additive point score plus a Platt calibrator: the common expert machinery.

    Subclasses provide ``_fit_rules(frame, y01)`` (set the fitted rule attributes),
    ``_start()`` (the points everyone starts with) and ``_contribution_block(frame)``
    (per-rule points as a matrix, columns ``_rule_names()``).
    """

    family: ClassVar[str] = "expert"
    explainer: ClassVar[Explainer] = "additive"

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        # The rules are fixed by an expert, not learned: only the monotone calibrator
        # sees the labels, so on arbitrary data the score can rank the classes badly.
        tags.classifier_tags.poor_score = True
        return tags

    def fit(self, X: Any, y: Any) -> _PointsModel:
        frame = self._frame(X, reset=True)
        y01 = self._targets(y, frame)
        self._fit_rules(frame)
        raw = self._additive_points(frame)
        self.calibrator_intercept_, self.calibrator_slope_ = platt_fit(raw, y01)
        return self

    # hooks ------------------------------------------------------------------------
    def _fit_rules(self, frame: pd.DataFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _start(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _rule_names(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _contribution_block(self, frame: pd.DataFrame) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # shared -----------------------------------------------------------------------
    def _additive_points(self, frame: pd.DataFrame) -> np.ndarray:
        return self._start() + self._contribution_block(frame).sum(axis=1)

    def _checked_frame(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "calibrator_slope_")
        return self._frame(X, reset=False)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Points per applied rule, one column each (NaN counts as 0: neutral).

        ``start + contributions(X).sum(axis=1)`` equals the additive points exactly.
        """
        frame = self._checked_frame(X)
        return pd.DataFrame(self._contribution_block(frame), columns=self._rule_names(),
                            index=frame.index)

    def log_odds_contributions(self, X: Any) -> pd.DataFrame:
        """Contributions on the log-odds scale: an ``intercept`` column
        (``a + b * start``) and ``b`` times each rule's points; the row sums equal
        :meth:`decision_function`."""
        contrib = self.contributions(X) * self.calibrator_slope_
        contrib.insert(0, "intercept",
                       self.calibrator_intercept_ + self.calibrator_slope_ * self._start())
        return contrib

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of default: ``a + b * points`` (Platt; additive over rules)."""
        frame = self._checked_frame(X)
        return self.calibrator_intercept_ + self.calibrator_slope_ * \
            self._additive_points(frame)


class SuiningPoints(_PointsModel):
    """The Suining county point system: start at ``start`` points, add ``rules`` per event.

    Parameters
    ----------
    start : float, default 1000
        Points every citizen starts with (the paper's 1000).
    rules : dict column -> points per unit, default None
        ``None`` uses :data:`SUINING_RULES` (the paper's +30 per award of exemplary
        conduct, -20 per traffic violation, -50 per unpaid bank debt, and the analogous
        points documented there for the other event columns). Rules whose column is not
        in ``X`` are ignored (listed in ``ignored_rules_``); if no rule applies, ``fit``
        raises ``ValueError``. A NaN count contributes 0 points: a thin file is neutral,
        neither rewarded nor punished.

        A rule may also be a mapping over a column's values, ``{column: {value:
        points}}`` (e.g. ``{"credit_history": {"critical": -50, "all_paid": 30}}``): a
        citizen gets the points of the value they hold, 0 for a value not listed or
        missing. Such a rule works on categorical (category, text, bool) columns, whose
        values are matched as text (``str(value)``), and on numeric columns, whose values
        are matched as numbers (each key must then be a number). Either kind of rule is
        one additive contribution (one column of :meth:`contributions`).

    Fitted attributes: ``rules_`` (applied rules, in the order given),
    ``ignored_rules_`` (sorted), ``calibrator_intercept_`` and ``calibrator_slope_`` (the
    Platt map ``log-odds = a + b * points``; monotone, sign as fitted -- a negative slope
    means more points, less risk), ``n_features_in_`` and ``feature_names_in_``.
    """

    kind: ClassVar[str] = "suining"
    default_kind: ClassVar[bool] = True
    synthetic_default: ClassVar[str | None] = "rules"
    description: ClassVar[str] = (
        "an expert points system (Suining): every citizen starts at fixed points, the "
        "config's rules add or take points per event, and a calibrator fitted on the "
        "training citizens maps the points to a probability")

    def __init__(self, start: float = SUINING_START,
                 rules: Mapping[str, float] | None = None) -> None:
        self.start = start
        self.rules = rules

    @classmethod
    def rule_tables(cls, params: Mapping[str, Any]) -> list[tuple[str, dict[Any, Any]]]:
        rules = params.get("rules")
        return [("params.rules", dict(rules))] if isinstance(rules, Mapping) else []

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """Rules on the checks' generic columns (arrays: x0, x1; frames: col_0, col_1)."""
        return {"rules": {"x0": -20.0, "x1": 30.0, "col_0": -20.0, "col_1": 30.0,
                          "0": -20.0, "1": 30.0}}

    def deliverable_tables(self) -> dict[str, pd.DataFrame]:
        """``rules.csv``: the start and every applied rule's points (per unit or value)."""
        rows = []
        for column, rule in self.rules_.items():
            if isinstance(rule, Mapping):
                rows += [{"column": column, "value": str(v), "points": float(p),
                          "per": "value"} for v, p in rule.items()]
            else:
                rows.append({"column": column, "value": "each unit", "points": float(rule),
                             "per": "unit"})
        start = {"column": "(start)", "value": "every citizen", "points": float(self.start),
                 "per": "citizen"}
        return {"rules.csv": pd.DataFrame([start, *rows],
                                          columns=["column", "value", "points", "per"])}

    @staticmethod
    def category(points: Any) -> np.ndarray:
        """The paper's categories: A >= 960, B 850-959, C 600-849, D <= 599."""
        p = np.asarray(points, dtype=float)
        out = np.full(p.shape, "D", dtype="<U1")
        for label, lower in reversed(SUINING_CATEGORIES):  # C, then B, then A overwrite
            out[p >= lower] = label
        return out

    def points(self, X: Any) -> np.ndarray:
        """Raw points: ``start`` plus the points of every applied rule."""
        return self._additive_points(self._checked_frame(X))

    def _start(self) -> float:
        return float(self.start)

    def _rule_names(self) -> list[str]:
        return list(self.rules_)

    def _checked_rules(self) -> dict[str, float | dict[Any, float]]:
        """The rules with every value checked (no data needed)."""
        _check_real(self.start, "SuiningPoints.start")
        rules = SUINING_RULES if self.rules is None else self.rules
        if not isinstance(rules, Mapping) or not rules:
            raise ValueError("SuiningPoints.rules must be a non-empty dict column -> points "
                             "per unit (or column -> {value: points}); "
                             f"got {rules!r}")
        checked: dict[str, float | dict[Any, float]] = {}
        for col, v in rules.items():
            if isinstance(v, Mapping):
                if not v:
                    raise ValueError(f"SuiningPoints.rules[{col!r}] must be a number of "
                                     "points per unit or a non-empty dict value -> points; "
                                     "got an empty dict")
                checked[str(col)] = {key: _check_real(p, f"SuiningPoints.rules[{col!r}]"
                                                         f"[{key!r}]")
                                     for key, p in v.items()}
            else:
                checked[str(col)] = _check_real(v, f"SuiningPoints.rules[{col!r}]")
        return checked

    def _validate_params_values(self) -> None:
        """Check ``start`` and ``rules`` without data (used by the model registry)."""
        self._checked_rules()

    def _fit_rules(self, frame: pd.DataFrame) -> None:
        checked = self._checked_rules()
        present = [c for c in checked if c in frame.columns]
        if not present:
            raise ValueError(
                "SuiningPoints: none of the rule columns is in X. Rule columns: "
                f"{sorted(checked)}; columns of X: {list(map(str, frame.columns))}")
        per_unit = [c for c in present if not isinstance(checked[c], dict)]
        _numeric_block(frame.iloc[:0], per_unit, "SuiningPoints")  # type check only
        cats = set(categorical_columns(frame))
        for c in present:
            rule = checked[c]
            if isinstance(rule, dict) and c not in cats:
                bad = [k for k in rule if isinstance(k, bool) or not isinstance(k, numbers.Real)
                       and not _is_number_text(k)]
                if bad:
                    raise ValueError(f"SuiningPoints.rules[{c!r}]: column {c!r} is numeric, so "
                                     f"its values must be numbers; got {bad[0]!r}")
        self.rules_ = {c: checked[c] for c in present}
        self.ignored_rules_ = sorted(c for c in checked if c not in frame.columns)

    def _contribution_block(self, frame: pd.DataFrame) -> np.ndarray:
        cols = list(self.rules_)
        out = np.zeros((len(frame), len(cols)))
        per_unit = [i for i, c in enumerate(cols) if not isinstance(self.rules_[c], dict)]
        if per_unit:
            names = [cols[i] for i in per_unit]
            counts = np.nan_to_num(_numeric_block(frame, names, "SuiningPoints"), nan=0.0)
            out[:, per_unit] = counts * np.array([self.rules_[c] for c in names])
        cats = set(categorical_columns(frame))
        for i, c in enumerate(cols):
            rule = self.rules_[c]
            if isinstance(rule, dict):
                out[:, i] = _value_points(frame[c], rule, c in cats)
        return out


class SesameScore(_PointsModel):
    """A Sesame-Credit-style score: five weighted factors on the 350-950 scale.

    Each factor is a signed combination of columns (:data:`SESAME_FACTORS`): every column
    is standardised with the mean and standard deviation of the *training* data (NaN is
    ignored there; a constant or empty column gets sd 1), a missing value scores 0 (the
    training mean: neutral). A factor is ``sum(v_c * z_c) / sum(|v_c|)`` over its columns
    present in ``X``; the composite is ``sum(w_f * factor_f) / sum(w_f)`` over factors
    with at least one present column (the weights are renormalised, listed in
    ``weights_``).

    Scale: ``points = 650 + 100 * composite / sd_train(composite)``: the training
    composite has mean 650 and sd 100, so the 350-950 range is +-3 training standard
    deviations. :meth:`points` clips to 350-950 (the published range); the additive
    contributions (:meth:`contributions`) sum exactly to the *unclipped* points
    (``points(X, clip=False)``), and the calibrator and :meth:`decision_function` use the
    unclipped points so that the log-odds stay exactly additive.

    Parameters
    ----------
    factors : dict factor -> dict column -> signed weight, default None
        ``None`` uses :data:`SESAME_FACTORS`.
    weights : dict factor -> weight, default None
        ``None`` uses :data:`SESAME_WEIGHTS` (35/20/25/10/10) when every factor is one of
        the five Sesame factors (restricted to those given), and equal weights otherwise.
        Weights must be >= 0; a factor with weight 0 is dropped.

    Fitted attributes: ``factors_``, ``weights_`` (normalised to sum 1),
    ``ignored_columns_``, ``means_``/``scales_`` (per column), ``composite_scale_``,
    ``coefficients_`` (points per standard deviation of each column),
    ``calibrator_intercept_``, ``calibrator_slope_``.
    """

    kind: ClassVar[str] = "sesame"
    synthetic_default: ClassVar[str | None] = "factors"
    description: ClassVar[str] = (
        "an expert score (Sesame style): five weighted factors of standardised inputs on "
        "the 350-950 scale, mapped to a probability by a calibrator fitted on the "
        "training citizens")

    def __init__(self, factors: Mapping[str, Mapping[str, float]] | None = None,
                 weights: Mapping[str, float] | None = None) -> None:
        self.factors = factors
        self.weights = weights

    @classmethod
    def test_params(cls) -> dict[str, Any]:
        """Two factors on the checks' generic columns."""
        return {"factors": {"a": {"x0": 1.0, "col_0": 1.0, "0": 1.0},
                            "b": {"x1": -1.0, "col_1": -1.0, "1": -1.0}}}

    def deliverable_tables(self) -> dict[str, pd.DataFrame]:
        """``rules.csv``: each factor's weight and each column's points per sd."""
        rows = [{"factor": factor, "factor_weight": float(self.weights_[factor]),
                 "column": column, "direction": float(sign),
                 "points_per_sd": float(self.coefficients_[column]),
                 "mean": float(self.means_[column]), "sd": float(self.scales_[column])}
                for factor, columns in self.factors_.items()
                for column, sign in columns.items()]
        return {"rules.csv": pd.DataFrame(rows)}

    def points(self, X: Any, clip: bool = True) -> np.ndarray:
        """Sesame points; clipped to 350-950 unless ``clip=False`` (the additive points)."""
        raw = self._additive_points(self._checked_frame(X))
        return np.clip(raw, SESAME_LOW, SESAME_HIGH) if clip else raw

    def _start(self) -> float:
        return SESAME_CENTRE

    def _rule_names(self) -> list[str]:
        return list(self.coefficients_)

    def _resolved_spec(self) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
        factors = SESAME_FACTORS if self.factors is None else self.factors
        if not isinstance(factors, Mapping) or not factors:
            raise ValueError("SesameScore.factors must be a non-empty dict factor -> "
                             f"{{column: signed weight}}; got {factors!r}")
        spec: dict[str, dict[str, float]] = {}
        for name, cols in factors.items():
            if not isinstance(cols, Mapping) or not cols:
                raise ValueError(f"SesameScore.factors[{name!r}] must be a non-empty dict "
                                 f"column -> signed weight; got {cols!r}")
            spec[str(name)] = {str(c): _check_real(v, f"SesameScore.factors[{name!r}][{c!r}]")
                               for c, v in cols.items()}
            if all(v == 0 for v in spec[str(name)].values()):
                raise ValueError(f"SesameScore.factors[{name!r}]: all weights are zero")
        if self.weights is None:
            default = self.factors is None or set(spec) <= set(SESAME_WEIGHTS)
            weights = {f: (SESAME_WEIGHTS[f] if default else 1.0) for f in spec}
        else:
            if not isinstance(self.weights, Mapping):
                raise ValueError(f"SesameScore.weights must be a dict; got {self.weights!r}")
            weights = {str(f): _check_real(w, f"SesameScore.weights[{f!r}]")
                       for f, w in self.weights.items()}
            if set(weights) != set(spec):
                raise ValueError(f"SesameScore.weights names {sorted(weights)} but the "
                                 f"factors are {sorted(spec)}")
            if any(w < 0 for w in weights.values()):
                raise ValueError(f"SesameScore.weights must be >= 0; got {weights}")
        return spec, weights

    def _validate_params_values(self) -> None:
        """Check ``factors`` and ``weights`` without data (used by the model registry)."""
        self._resolved_spec()

    def _fit_rules(self, frame: pd.DataFrame) -> None:
        spec, weights = self._resolved_spec()
        factors_ = {f: {c: v for c, v in cols.items() if c in frame.columns and v != 0}
                    for f, cols in spec.items()}
        factors_ = {f: cols for f, cols in factors_.items() if cols and weights[f] > 0}
        if not factors_:
            wanted = sorted({c for cols in spec.values() for c in cols})
            raise ValueError(
                "SesameScore: none of the factor columns is in X (or every factor with a "
                f"column has weight 0). Factor columns: {wanted}; columns of X: "
                f"{list(map(str, frame.columns))}")
        total = sum(weights[f] for f in factors_)
        self.factors_ = factors_
        self.weights_ = {f: weights[f] / total for f in factors_}
        self.ignored_columns_ = sorted({c for cols in spec.values() for c in cols
                                        if c not in frame.columns})
        columns = list(dict.fromkeys(c for cols in factors_.values() for c in cols))
        block = _numeric_block(frame, columns, "SesameScore")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column: mean of empty
            means = np.nanmean(block, axis=0) if len(block) else np.zeros(len(columns))
            scales = np.nanstd(block, axis=0) if len(block) else np.ones(len(columns))
        means = np.where(np.isfinite(means), means, 0.0)
        scales = np.where(np.isfinite(scales) & (scales > 0), scales, 1.0)
        self.means_ = pd.Series(means, index=columns, name="mean")
        self.scales_ = pd.Series(scales, index=columns, name="sd")
        # composite weight of each column per standardised unit
        unit = dict.fromkeys(columns, 0.0)
        for f, cols in factors_.items():
            norm = sum(abs(v) for v in cols.values())
            for c, v in cols.items():
                unit[c] += self.weights_[f] * v / norm
        z = self._standardised(block)
        composite = z @ np.array([unit[c] for c in columns])
        sd = float(composite.std())
        self.composite_scale_ = sd if np.isfinite(sd) and sd > 1e-12 else 1.0
        self.coefficients_ = {c: SESAME_POINTS_PER_SD * unit[c] / self.composite_scale_
                              for c in columns}

    def _standardised(self, block: np.ndarray) -> np.ndarray:
        z = (block - self.means_.to_numpy()) / self.scales_.to_numpy()
        return np.nan_to_num(z, nan=0.0)

    def _contribution_block(self, frame: pd.DataFrame) -> np.ndarray:
        columns = list(self.coefficients_)
        z = self._standardised(_numeric_block(frame, columns, "SesameScore"))
        return z * np.array([self.coefficients_[c] for c in columns])
