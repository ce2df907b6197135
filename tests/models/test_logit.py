"""The logit family: optimal binning + WoE + logistic regression, with a points table."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

from scorelab.models.logit import LogitScorecard

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return LogitScorecard().fit(X, y)


def _oof(model, X, y):
    """Out-of-fold P(default) with 5 stratified folds, and the total fit time."""
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    p = np.empty(len(X))
    elapsed = 0.0
    for train, test in cv.split(X, y):
        start = time.perf_counter()
        m = LogitScorecard(**model).fit(X.iloc[train], y.iloc[train])
        elapsed += time.perf_counter() - start
        p[test] = m.predict_proba(X.iloc[test])[:, 1]
    return p, elapsed


def test_cv_auc_and_speed(data) -> None:
    X, y = data
    p, seconds = _oof({}, X, y)
    auc = roc_auc_score(y, p)
    print(f"\nLogitScorecard 5-fold: AUC {auc:.4f}, fit time {seconds:.2f} s")
    assert auc >= 0.78
    assert seconds < 60  # measured ~3 s; a guard against a pathological solver setting


def test_shuffled_labels_give_chance_auc(data) -> None:
    X, y = data
    y_shuffled = pd.Series(np.random.default_rng(3).permutation(y.to_numpy()), index=y.index)
    p, _ = _oof({}, X, y_shuffled)
    assert roc_auc_score(y_shuffled, p) == pytest.approx(0.5, abs=0.03)


def test_contributions_add_up_to_the_log_odds(fitted, data) -> None:
    X, _ = data
    contrib = fitted.contributions(X)
    assert list(contrib.columns) == ["intercept", *X.columns]
    assert (contrib["intercept"] == fitted.intercept_).all()
    dec = fitted.decision_function(X)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), dec, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fitted.predict_proba(X)[:, 1], 1 / (1 + np.exp(-dec)),
                               atol=1e-12)
    # the estimator's own log-odds on the WoE matrix agree
    np.testing.assert_allclose(fitted.scorecard_.decision_function(
        fitted._data(X)), dec, atol=1e-9)


def test_points_follow_pdo_scaling(fitted, data) -> None:
    X, _ = data
    dec = fitted.decision_function(X)
    points = fitted.points(X)
    factor = 50 / math.log(2)
    offset = 600 - factor * math.log(4)
    assert fitted.factor_ == pytest.approx(factor) and fitted.offset_ == pytest.approx(offset)
    np.testing.assert_allclose(points, offset - factor * dec, rtol=0, atol=1e-9)
    # base_points at good:bad odds 4 (log-odds of default -ln 4); +pdo doubles the odds
    assert offset - factor * (-math.log(4)) == pytest.approx(600)
    assert (offset - factor * (-math.log(8))) - 600 == pytest.approx(50)
    # higher points = safer
    assert roc_auc_score(data[1], -points) > 0.78


def test_points_table_sums_to_each_citizens_points(fitted, data) -> None:
    X, _ = data
    table = fitted.points_table()
    assert list(table.columns) == ["variable", "bin", "count", "event_rate", "woe",
                                   "coefficient", "points"]
    assert table["variable"].unique().tolist() == list(X.columns)
    n = len(X.columns)
    np.testing.assert_allclose(
        table["points"],
        -fitted.factor_ * (table["coefficient"] * table["woe"] + fitted.intercept_ / n)
        + fitted.offset_ / n, atol=1e-9)
    # citizen 0 by hand: each variable's bin points, looked up through its WoE
    row = X.iloc[[0]]
    contrib = fitted.contributions(row).iloc[0]
    total = 0.0
    for var in X.columns:
        rows = table[table["variable"] == var]
        match = np.isclose(rows["coefficient"] * rows["woe"], contrib[var], atol=1e-12)
        total += rows.loc[match, "points"].iloc[0]
    assert total == pytest.approx(fitted.points(row)[0], abs=1e-9)


def test_categories_and_missing_values_get_their_own_bins(fitted, data) -> None:
    X, _ = data
    table = fitted.points_table()
    marital = table[table["variable"] == "marital_status"]["bin"].tolist()
    assert {"single", "married"} <= {b for label in marital for b in label.split(", ")}
    missing = table[(table["variable"] == "credit_history_years") & (table["bin"] == "Missing")]
    assert missing["count"].iloc[0] == X["credit_history_years"].isna().sum() > 0
    assert missing["woe"].iloc[0] != 0  # empirical WoE of thin files, not a neutral 0
    thin = X["credit_history_years"].isna().to_numpy()
    np.testing.assert_allclose(fitted.contributions(X).loc[thin, "credit_history_years"],
                               missing["coefficient"].iloc[0] * missing["woe"].iloc[0])
    # a category unseen in training is scored as missing (points and log-odds agree)
    odd = X.head(3).copy()
    odd["sector"] = pd.Categorical(["astronaut"] * 3)
    np.testing.assert_allclose(fitted.points(odd),
                               fitted.offset_ - fitted.factor_ * fitted.decision_function(odd),
                               atol=1e-9)


def test_extra_and_missing_columns(population) -> None:
    frame, y = population.frame, population.frame["defaulted"]
    extra = population.features + ["age", "sex", "friends_avg_score"]
    model = LogitScorecard().fit(frame[extra], y)
    assert model.variables_ == extra and "sex" in model.categorical_
    with pytest.raises(ValueError, match="missing"):
        model.predict_proba(frame[population.features])
    fewer = LogitScorecard().fit(frame[["income", "late_payments"]], y)
    assert fewer.points_table()["variable"].unique().tolist() == ["income", "late_payments"]


def test_works_on_a_plain_numeric_array(data) -> None:
    X, y = data
    num = X.select_dtypes("number")
    on_array = LogitScorecard().fit(num.to_numpy(), y.to_numpy())
    on_frame = LogitScorecard().fit(num, y)
    assert on_array.variables_ == [f"x{i}" for i in range(num.shape[1])]
    np.testing.assert_allclose(on_array.predict_proba(num.to_numpy()),
                               on_frame.predict_proba(num), atol=1e-9)
    assert LogitScorecard.family == "logit" and LogitScorecard.explainer == "linear"


def test_deterministic_and_parameters_validated(data) -> None:
    X, y = data
    Xs, ys = X.iloc[:4000], y.iloc[:4000]
    np.testing.assert_array_equal(LogitScorecard().fit(Xs, ys).points(Xs),
                                  LogitScorecard().fit(Xs, ys).points(Xs))
    for bad in ({"C": 0}, {"pdo": -1}, {"max_n_bins": 1.5}, {"monotonic_trend": "up"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LogitScorecard(**bad).fit(Xs, ys)
    wide = LogitScorecard(max_n_bins=2).fit(Xs, ys).points_table()
    assert (wide[~wide["bin"].isin(["Special", "Missing"])].groupby("variable").size()
            <= 2).all()


# --- scikit-learn's estimator checks: all pass (nothing expected to fail) -------------
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks([LogitScorecard()],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def test_sklearn_feature_names_check() -> None:
    check_dataframe_column_names_consistency("LogitScorecard", LogitScorecard())
