"""Tree families: accuracy against the oracle, constraints, TreeSHAP, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scorelab.config import config_from_dict
from scorelab.data import generate_population
from scorelab.models.trees import LightGBMFamily, RandomForestFamily

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


def _population(n: int, seed: int = 1):
    cfg = config_from_dict({"seed": seed, "population": {"n_citizens": n}})
    pop = generate_population(cfg.population, cfg.seed)
    return pop.frame[pop.features], pop.frame["defaulted"].to_numpy(), pop.frame["true_pd"]


@pytest.fixture(scope="module")
def pop20k():
    return _population(20_000)


@pytest.fixture(scope="module")
def pop4k():
    return _population(4_000, seed=3)


def cv_auc(make, X, y, folds=5, seed=0):
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        model = make().fit(X.iloc[train], y[train])
        aucs.append(roc_auc_score(y[test], model.predict_proba(X.iloc[test])[:, 1]))
    return float(np.mean(aucs))


def test_lightgbm_reaches_97_percent_of_the_oracle_at_20k(pop20k):
    X, y, true_pd = pop20k
    oracle = roc_auc_score(y, true_pd)
    auc = cv_auc(LightGBMFamily, X, y)
    assert auc >= 0.97 * oracle, (auc, oracle)


def test_forest_is_well_above_chance(pop4k):
    X, y, true_pd = pop4k
    auc = cv_auc(RandomForestFamily, X, y, folds=3)
    assert auc > 0.75
    assert auc > 0.93 * roc_auc_score(y, true_pd)


@pytest.mark.parametrize("cls", [LightGBMFamily, RandomForestFamily])
def test_shuffled_labels_give_chance_auc(cls, pop4k):
    X, y, _ = pop4k
    shuffled = np.random.default_rng(0).permutation(y)
    assert abs(cv_auc(cls, X, shuffled, folds=3) - 0.5) < 0.05


@pytest.mark.parametrize("cls", [LightGBMFamily, RandomForestFamily])
def test_categoricals_are_native_and_nan_is_accepted(cls, pop4k):
    X, y, _ = pop4k
    assert X.isna().any().any()
    model = cls(n_estimators=30).fit(X, y)
    assert set(model.categories_) == {"marital_status", "sector"}
    # LightGBM saw two category-dtype columns and splits them as categories
    assert len(model.booster_.pandas_categorical) == 2
    infos = model.booster_.dump_model()["feature_infos"]
    for col in model.categories_:
        assert infos[col]["values"], infos[col]  # a list of categories, not a range
    assert infos["income"]["values"] == []
    # an unseen category is treated as missing, not an error
    odd = X.iloc[:5].copy()
    odd["sector"] = pd.Categorical(["nowhere"] * 5)
    p = model.predict_proba(odd)[:, 1]
    assert np.all(np.isfinite(p)) and p.shape == (5,)


@pytest.mark.parametrize("cls", [LightGBMFamily, RandomForestFamily])
def test_monotone_constraint_is_honoured(cls, pop4k):
    X, y, _ = pop4k
    model = cls(n_estimators=60, monotone_constraints={"late_payments": 1,
                                                       "bill_payment_regularity": -1}).fit(X, y)
    assert model.monotone_constraints_[model.columns_.index("late_payments")] == 1
    rows = X.iloc[:200]
    for col, sign in (("late_payments", 1), ("bill_payment_regularity", -1)):
        lo, hi = X[col].quantile(0.01), X[col].quantile(0.99)
        grid = np.linspace(lo, hi, 25)
        risk = np.column_stack([model.decision_function(rows.assign(**{col: v}))
                                for v in grid])
        steps = np.diff(risk, axis=1) * sign
        assert (steps >= -1e-12).all(), col


def test_monotone_constraint_errors_name_the_column(pop4k):
    X, y, _ = pop4k
    with pytest.raises(ValueError, match="no_such_column"):
        LightGBMFamily(n_estimators=5, monotone_constraints={"no_such_column": 1}).fit(X, y)
    with pytest.raises(ValueError, match="late_payments"):
        LightGBMFamily(n_estimators=5, monotone_constraints={"late_payments": 2}).fit(X, y)
    with pytest.raises(ValueError, match="sector"):
        LightGBMFamily(n_estimators=5, monotone_constraints={"sector": 1}).fit(X, y)


@pytest.mark.parametrize("cls", [LightGBMFamily, RandomForestFamily])
def test_pred_contrib_rows_sum_to_the_log_odds(cls, pop4k):
    X, y, _ = pop4k
    model = cls(n_estimators=40).fit(X, y)
    contrib = model.pred_contrib(X.iloc[:300])
    assert contrib.shape == (300, X.shape[1] + 1)
    raw = model.decision_function(X.iloc[:300])
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-9)
    p = model.predict_proba(X.iloc[:300])[:, 1]
    np.testing.assert_allclose(1 / (1 + np.exp(-raw)), p, atol=1e-12)
    assert model.family == "trees" and model.explainer == "tree"


@pytest.mark.parametrize("cls", [LightGBMFamily, RandomForestFamily])
def test_same_random_state_same_probabilities(cls, pop4k):
    X, y, _ = pop4k
    a = cls(n_estimators=30, random_state=5).fit(X, y).predict_proba(X)
    b = cls(n_estimators=30, random_state=5).fit(X, y).predict_proba(X)
    c = cls(n_estimators=30, random_state=6).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_array_input_and_string_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=400) > 0, "bad", "good")
    model = LightGBMFamily(n_estimators=30, min_child_samples=10).fit(X, y)
    assert model.columns_ == ["x0", "x1", "x2"]
    assert list(model.classes_) == ["bad", "good"]
    p_good = model.predict_proba(X)[:, 1]
    assert roc_auc_score(y == "good", p_good) > 0.9


def test_bad_parameter_values_raise():
    X, y = np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 2
    with pytest.raises(ValueError, match="n_estimators"):
        LightGBMFamily(n_estimators=-3).fit(X, y)
    with pytest.raises(ValueError, match="subsample"):
        RandomForestFamily(subsample=1.0).fit(X, y)


def test_forest_is_calibrated_and_its_contributions_stay_exact() -> None:
    """LightGBM's rf mode shrinks log-odds; the Platt step must undo that, additively."""
    from sklearn.model_selection import train_test_split

    from scorelab.config import config_from_dict
    from scorelab.data import generate_population
    from scorelab.evaluate.metrics import expected_calibration_error
    from scorelab.models.trees import RandomForestFamily

    cfg = config_from_dict({"seed": 2, "population": {"n_citizens": 12000}})
    pop = generate_population(cfg.population, cfg.seed)
    X, y = pop.frame[pop.features], pop.frame["defaulted"].to_numpy()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    raw = RandomForestFamily(calibrate=False).fit(X_tr, y_tr)
    calibrated = RandomForestFamily().fit(X_tr, y_tr)
    ece_raw = expected_calibration_error(y_te, raw.predict_proba(X_te)[:, 1])
    ece_cal = expected_calibration_error(y_te, calibrated.predict_proba(X_te)[:, 1])
    assert ece_cal < 0.03 < ece_raw
    contrib = calibrated.pred_contrib(X_te)
    np.testing.assert_allclose(contrib.sum(axis=1), calibrated.decision_function(X_te),
                               atol=1e-9)
