"""Expert families (paper, section 4): Suining points and a Sesame-style score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

from scorelab.models.expert import (
    SESAME_FACTORS,
    SUINING_RULES,
    SesameScore,
    SuiningPoints,
    platt_fit,
)
from scorelab.models.logit import LogitScorecard

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

EXPERTS = (SuiningPoints, SesameScore)


@pytest.fixture(scope="module")
def cv_auc(data):
    """Out-of-fold AUC of the three families on the same 5 folds (calibration per fold)."""
    X, y = data
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    out = {}
    for model in (SuiningPoints(), SesameScore(), LogitScorecard()):
        p = cross_val_predict(model, X, y, cv=cv, method="predict_proba")[:, 1]
        out[type(model).__name__] = roc_auc_score(y, p)
    return out


# --- Suining ---------------------------------------------------------------------------

def test_default_rules_are_the_papers() -> None:
    assert SUINING_RULES["exemplary_conduct"] == 30
    assert SUINING_RULES["traffic_violations"] == -20
    assert SUINING_RULES["unpaid_debts"] == -50
    # the paper: situations and diseases must not count
    assert not {"situational_events", "health_events"} & set(SUINING_RULES)
    assert SuiningPoints().start == 1000


def test_suining_points_are_start_plus_contributions(data) -> None:
    X, y = data
    model = SuiningPoints().fit(X, y)
    contrib = model.contributions(X)
    assert list(contrib.columns) == list(model.rules_) == list(SUINING_RULES)
    assert contrib.index.equals(X.index)
    points = model.points(X)
    np.testing.assert_allclose(1000 + contrib.sum(axis=1).to_numpy(), points, rtol=0, atol=1e-9)
    # a citizen with no events has exactly 1000 points
    quiet = (X[list(SUINING_RULES)].fillna(0) == 0).all(axis=1).to_numpy()
    assert quiet.any() and np.all(points[quiet] == 1000)
    # log-odds: a + b * points, additive over rules
    dec = model.decision_function(X)
    np.testing.assert_allclose(
        dec, model.calibrator_intercept_ + model.calibrator_slope_ * points, rtol=0, atol=1e-9)
    lo = model.log_odds_contributions(X)
    np.testing.assert_allclose(lo.sum(axis=1).to_numpy(), dec, rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-dec)), atol=1e-12)


@pytest.mark.parametrize(("column", "step"), [("traffic_violations", -20),
                                              ("unpaid_debts", -50),
                                              ("exemplary_conduct", 30)])
def test_one_more_event_moves_points_by_its_rule(data, column, step) -> None:
    X, y = data
    model = SuiningPoints().fit(X, y)
    more = X.copy()
    more[column] = more[column] + 1
    np.testing.assert_allclose(model.points(more) - model.points(X), step, atol=1e-9)
    # on this population more points = less risk, so the calibrated risk moves the other way
    assert model.calibrator_slope_ < 0
    before = model.predict_proba(X)[:, 1]
    delta = model.predict_proba(more)[:, 1] - before
    # strictly monotone wherever the probability is not saturated at 0 or 1 in floats
    # (a citizen with thousands of negative points has P(default) == 1.0 exactly)
    live = (before > 1e-12) & (before < 1 - 1e-12)
    assert live.mean() > 0.99
    sign = 1 if step < 0 else -1
    assert np.all(sign * delta >= 0)
    assert np.all(sign * delta[live] > 0)


def test_categories_at_the_papers_boundaries() -> None:
    points = [1000, 960, 959.5, 959, 850, 849.5, 849, 600, 599.5, 599, 0, -50]
    expected = ["A", "A", "B", "B", "B", "C", "C", "C", "D", "D", "D", "D"]
    assert SuiningPoints.category(points).tolist() == expected
    assert SuiningPoints().category(960) == "A"


def test_thin_file_nan_counts_are_neutral() -> None:
    X = pd.DataFrame({"traffic_violations": [np.nan, 0.0, 2.0, 1.0],
                      "unpaid_debts": [np.nan, np.nan, 0.0, 1.0]})
    y = np.array([0, 0, 1, 1])
    model = SuiningPoints().fit(X, y)
    assert model.points(X).tolist() == [1000, 1000, 960, 930]
    assert model.contributions(X).iloc[0].tolist() == [0.0, 0.0]


def test_rules_for_absent_columns_are_ignored_and_extra_columns_unused(population) -> None:
    frame = population.frame
    X = frame[["traffic_violations", "unpaid_debts", "age", "friends_avg_score"]]
    y = frame["defaulted"]
    model = SuiningPoints(rules={"traffic_violations": -20, "unpaid_debts": -50,
                                 "zodiac_sign": -5}).fit(X, y)
    assert model.rules_ == {"traffic_violations": -20.0, "unpaid_debts": -50.0}
    assert model.ignored_rules_ == ["zodiac_sign"]
    assert list(model.contributions(X).columns) == ["traffic_violations", "unpaid_debts"]
    default = SuiningPoints().fit(X, y)
    assert set(default.ignored_rules_) == set(SUINING_RULES) - {"traffic_violations",
                                                                 "unpaid_debts"}


def test_no_applicable_rule_is_a_clear_error(data) -> None:
    X, y = data
    with pytest.raises(ValueError, match=r"none of the rule columns is in X.*zodiac_sign"
                                         r".*columns of X: \['education'"):
        SuiningPoints(rules={"zodiac_sign": -5}).fit(X, y)
    with pytest.raises(ValueError, match="none of the rule columns.*x0"):
        SuiningPoints().fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="categorical"):
        SuiningPoints(rules={"sector": 10}).fit(X, y)
    with pytest.raises(ValueError, match="finite real number"):
        SuiningPoints(rules={"traffic_violations": "a lot"}).fit(X, y)


def test_works_on_a_plain_numeric_array(data) -> None:
    X, y = data
    cols = ["traffic_violations", "unpaid_debts", "exemplary_conduct"]
    arr = X[cols].to_numpy(dtype=float)
    model = SuiningPoints(rules={"x0": -20, "x1": -50, "x2": 30}).fit(arr, y.to_numpy())
    by_name = SuiningPoints(rules=dict(zip(cols, (-20, -50, 30), strict=True))).fit(X[cols], y)
    np.testing.assert_array_equal(model.points(arr), by_name.points(X[cols]))
    np.testing.assert_allclose(model.predict_proba(arr), by_name.predict_proba(X[cols]))
    assert not hasattr(model, "feature_names_in_")
    assert list(model.contributions(arr).columns) == ["x0", "x1", "x2"]


# --- Sesame ----------------------------------------------------------------------------

def test_sesame_points_are_additive_scaled_and_clipped(data) -> None:
    X, y = data
    model = SesameScore().fit(X, y)
    raw = model.points(X, clip=False)
    contrib = model.contributions(X)
    np.testing.assert_allclose(650 + contrib.sum(axis=1).to_numpy(), raw, rtol=0, atol=1e-9)
    # training composite: mean 650, sd 100 (350-950 = +-3 sd)
    assert raw.mean() == pytest.approx(650, abs=1e-9)
    assert raw.std() == pytest.approx(100, rel=1e-9)
    clipped = model.points(X)
    assert clipped.min() >= 350 and clipped.max() <= 950
    np.testing.assert_array_equal(clipped, np.clip(raw, 350, 950))
    dec = model.decision_function(X)
    np.testing.assert_allclose(model.log_odds_contributions(X).sum(axis=1), dec, atol=1e-9)
    np.testing.assert_allclose(dec, model.calibrator_intercept_
                               + model.calibrator_slope_ * raw, atol=1e-9)


def test_sesame_factors_weights_and_directions(data) -> None:
    X, y = data
    model = SesameScore().fit(X, y)
    assert model.weights_ == pytest.approx({
        "credit_history": 0.35, "behaviour_preferences": 0.20, "fulfilment_capacity": 0.25,
        "personal_characteristics": 0.10, "interpersonal_relationships": 0.10})
    assert model.ignored_columns_ == ["friends_avg_score"]  # prohibited: not in X by default
    for factor, cols in SESAME_FACTORS.items():
        for col, sign in cols.items():
            if col in X:
                assert np.sign(model.coefficients_[col]) == np.sign(sign), (factor, col)
    more = X.copy()
    more["late_payments"] += 1
    assert np.all(model.points(more, clip=False) < model.points(X, clip=False))
    # a NaN (thin file) scores the training mean: contribution 0
    thin = X["credit_history_years"].isna().to_numpy()
    assert thin.any()
    assert np.all(model.contributions(X).loc[thin, "credit_history_years"] == 0)
    # friends_avg_score enters only when a config puts it into X
    with_friends = pd.concat([X, data_friends(X)], axis=1)
    assert "friends_avg_score" in SesameScore().fit(with_friends, y).coefficients_


def data_friends(X: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"friends_avg_score": 650 + 80 * rng.standard_normal(len(X))},
                        index=X.index)


def test_sesame_custom_factors_and_errors(data) -> None:
    X, y = data
    model = SesameScore(factors={"debts": {"unpaid_debts": -1, "tax_arrears": -1}}).fit(X, y)
    assert model.weights_ == {"debts": 1.0}
    with pytest.raises(ValueError, match="none of the factor columns is in X.*zodiac"):
        SesameScore(factors={"stars": {"zodiac": 1}}).fit(X, y)
    with pytest.raises(ValueError, match="weights names"):
        SesameScore(weights={"credit_history": 1}).fit(X, y)
    arr = X[["income", "debt_to_income"]].to_numpy()
    on_array = SesameScore(factors={"capacity": {"x0": 1, "x1": -1}}).fit(arr, y)
    on_frame = SesameScore(factors={"capacity": {"income": 1, "debt_to_income": -1}}).fit(
        X[["income", "debt_to_income"]], y)
    np.testing.assert_allclose(on_array.points(arr), on_frame.points(X[["income",
                                                                         "debt_to_income"]]))


# --- both: calibration, performance, determinism -----------------------------------------

@pytest.mark.parametrize("cls", EXPERTS)
def test_calibration_uses_the_training_half_only(data, cls) -> None:
    X, y = data
    half = np.arange(len(X)) % 2 == 0
    XA, yA, XB = X[half], y[half], X[~half]
    fitted = cls().fit(XA, yA)
    p_B = fitted.predict_proba(XB)[:, 1]
    # the other half's labels cannot change anything: flip them, refit on the train half
    y_flipped = y.where(half, 1 - y)
    refit = cls().fit(X[half], y_flipped[half])
    np.testing.assert_array_equal(refit.predict_proba(XB)[:, 1], p_B)
    assert refit.calibrator_slope_ == fitted.calibrator_slope_
    # ... whereas the training half's labels do change the calibrator (the test has teeth)
    other = cls().fit(XA, 1 - yA)
    assert other.calibrator_slope_ == pytest.approx(-fitted.calibrator_slope_, rel=1e-3)
    # the calibrator is the 1-D logistic regression of yA on the training points
    pts = fitted.points(XA) if cls is SuiningPoints else fitted.points(XA, clip=False)
    lr = LogisticRegression(C=1e8, max_iter=1000).fit(((pts - pts.mean()) / pts.std())[:, None],
                                                      yA)
    assert fitted.calibrator_slope_ == pytest.approx(lr.coef_[0, 0] / pts.std(), rel=1e-2)
    if cls is SesameScore:  # standardisation from the training half only
        np.testing.assert_allclose(fitted.means_, XA[fitted.means_.index].mean(), rtol=1e-9)
        assert not np.allclose(fitted.means_, X[fitted.means_.index].mean(), rtol=1e-6)


def test_experts_beat_chance_but_not_the_scorecard(cv_auc) -> None:
    print(f"\n5-fold CV AUC: {cv_auc}")
    for name in ("SuiningPoints", "SesameScore"):
        assert 0.6 < cv_auc[name] < cv_auc["LogitScorecard"], name
    assert cv_auc["LogitScorecard"] >= 0.78


@pytest.mark.parametrize("cls", EXPERTS)
def test_shuffled_labels_give_chance_auc(data, cls) -> None:
    X, y = data
    y_shuffled = pd.Series(np.random.default_rng(3).permutation(y.to_numpy()), index=y.index)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    p = cross_val_predict(cls(), X, y_shuffled, cv=cv, method="predict_proba")[:, 1]
    assert roc_auc_score(y_shuffled, p) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("cls", EXPERTS)
def test_deterministic_and_labels_any_two_values(data, cls) -> None:
    X, y = data
    a = cls().fit(X, y).predict_proba(X)
    b = cls().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    named = cls().fit(X, np.where(y == 1, "bad", "good"))  # classes_ = [bad, good]
    np.testing.assert_allclose(named.predict_proba(X)[:, 0], a[:, 1], atol=1e-9)
    assert cls.family == "expert" and cls.explainer == "additive"


def test_platt_fit_is_finite_on_separable_scores() -> None:
    a, b = platt_fit(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0, 0, 1, 1]))
    assert np.isfinite(a) and 0 < b < 50
    a, b = platt_fit(np.full(4, 7.0), np.array([0, 1, 1, 1]))
    smoothed = (3 * (3 + 1) / (3 + 2) + 1 / (1 + 2)) / 4  # Platt's targets, averaged
    assert b == 0 and a == pytest.approx(np.log(smoothed / (1 - smoothed)), rel=1e-12)


# --- scikit-learn's estimator checks ----------------------------------------------------
# The instances carry rules over x0, x1, ... (the names of array columns). The expert
# families set the ``poor_score`` tag: their rules are fixed, not learned, so on arbitrary
# data they need not reach the accuracy check_classifiers_train asks of learners. With
# that tag every check passes; nothing is expected to fail.
CHECKED = [SuiningPoints(rules={"x0": 10.0, "x1": 10.0}),
           SesameScore(factors={"first": {"x0": 1.0, "x1": 1.0}, "second": {"x2": 1.0}})]
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks(CHECKED, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


@pytest.mark.parametrize("estimator", [
    SuiningPoints(rules={f"col_{i}": 10.0 for i in range(8)}),
    SesameScore(factors={"a": {f"col_{i}": 1.0 for i in range(4)},
                         "b": {f"col_{i}": -1.0 for i in range(4, 8)}})], ids=repr)
def test_sklearn_feature_names_check(estimator) -> None:
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)
