"""Hybrid families: no leakage (inner out-of-fold fitting), accuracy, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scorelab.config import config_from_dict
from scorelab.data import generate_population
from scorelab.models.hybrid import ExpertBoostHybrid, StackingHybrid, YimMitchellHybrid
from scorelab.models.trees import LightGBMFamily

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

SMALL_NET = {"hidden_layer_sizes": (16,), "max_iter": 100}


@pytest.fixture(scope="module")
def pop():
    cfg = config_from_dict({"seed": 5, "population": {"n_citizens": 3_000}})
    p = generate_population(cfg.population, cfg.seed)
    return p.frame[p.features], p.frame["defaulted"].to_numpy()


def logistic_stand_in():
    """A plain sklearn first stage: numeric columns imputed and scaled, then a logit."""
    numeric = make_pipeline(SimpleImputer(), StandardScaler())
    prep = make_column_transformer((numeric, make_column_selector(dtype_include="number")))
    return make_pipeline(prep, LogisticRegression())


def cv_auc(make, X, y, folds=3, seed=0):
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        model = make().fit(X.iloc[train], y[train])
        aucs.append(roc_auc_score(y[test], model.predict_proba(X.iloc[test])[:, 1]))
    return float(np.mean(aucs))


# --------------------------------------------------------------------------- Yim & Mitchell


def test_yim_mitchell_first_stage_inputs_are_out_of_fold(pop):
    X, y = pop
    first = logistic_stand_in()
    model = YimMitchellHybrid(first_stage=first, inner_folds=4, **SMALL_NET).fit(X, y)
    folds = model.inner_fold_
    assert sorted(np.unique(folds)) == [0, 1, 2, 3]
    for k in range(4):
        held_out = folds == k
        # a first stage that never saw the rows of fold k reproduces their inputs exactly
        outside = clone(first).fit(X[~held_out], y[~held_out])
        expected = outside.decision_function(X[held_out])
        np.testing.assert_allclose(model.oof_log_odds_[held_out], expected, rtol=1e-10)
    # ... and they are not the in-sample outputs of the first stage used for prediction
    in_sample = model.first_stage_.decision_function(X)
    assert not np.allclose(model.oof_log_odds_, in_sample)
    # the network was trained on the raw features plus the out-of-fold log-odds
    assert model.network_.columns_ == [*X.columns, "first_stage_log_odds"]
    # prediction uses the first stage refitted on all training rows
    np.testing.assert_allclose(model.first_stage_log_odds(X), in_sample)
    assert model.family == "hybrid" and model.explainer == "network"


def test_yim_mitchell_inner_folds_are_stratified_and_seeded(pop):
    X, y = pop
    a = YimMitchellHybrid(first_stage=logistic_stand_in(), random_state=1, **SMALL_NET)
    b = YimMitchellHybrid(first_stage=logistic_stand_in(), random_state=1, **SMALL_NET)
    a.fit(X, y)
    b.fit(X, y)
    np.testing.assert_array_equal(a.inner_fold_, b.inner_fold_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    rates = [y[a.inner_fold_ == k].mean() for k in range(5)]
    assert max(rates) - min(rates) < 0.01


def test_yim_mitchell_with_the_logit_scorecard_beats_chance(pop):
    X, y = pop
    model = YimMitchellHybrid(inner_folds=2, **SMALL_NET).fit(X.iloc[:2000], y[:2000])
    assert type(model.first_stage_).__name__ == "LogitScorecard"
    assert roc_auc_score(y[2000:], model.predict_proba(X.iloc[2000:])[:, 1]) > 0.75


def test_yim_mitchell_accepts_a_predict_proba_only_first_stage(pop):
    X, y = pop
    knn = make_pipeline(make_column_transformer(
        (SimpleImputer(), make_column_selector(dtype_include="number"))),
        KNeighborsClassifier(25))
    assert not hasattr(knn, "decision_function")
    model = YimMitchellHybrid(first_stage=knn, inner_folds=3, **SMALL_NET).fit(X, y)
    assert np.isfinite(model.oof_log_odds_).all()
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.7


# --------------------------------------------------------------------------- expert + boosting


def test_expert_boost_feeds_the_raw_points_to_lightgbm(pop):
    from scorelab.models.expert import SuiningPoints

    X, y = pop
    model = ExpertBoostHybrid(n_estimators=60).fit(X, y)
    points = SuiningPoints().fit(X, y).points(X)
    np.testing.assert_allclose(model._points(model._validate_predict(X)), points)
    assert model.booster_.columns_[-1] == "expert_points"
    contrib = model.pred_contrib(X.iloc[:100])
    np.testing.assert_allclose(contrib.sum(axis=1), model.decision_function(X.iloc[:100]),
                               atol=1e-9)
    assert cv_auc(lambda: ExpertBoostHybrid(n_estimators=100), X, y) > 0.75


def test_expert_boost_monotone_constraint_on_the_points(pop):
    X, y = pop
    model = ExpertBoostHybrid(n_estimators=40, monotone_constraints={"expert_points": -1})
    model.fit(X, y)
    i = model.booster_.columns_.index("expert_points")
    assert model.booster_.monotone_constraints_[i] == -1


# --------------------------------------------------------------------------- stacking


def test_stacking_default_bases_out_of_fold(pop):
    X, y = pop
    X, y = X.iloc[:2000], y[:2000]
    model = StackingHybrid(inner_folds=2).fit(X, y)
    assert model.names_ == ["logit", "lightgbm", "mlp"]
    assert model.oof_log_odds_.shape == (2000, 3)
    # meta-learner inputs are out of fold: a base fitted on all rows scores them differently
    in_sample = model.base_log_odds(X)
    assert not np.allclose(model.oof_log_odds_, in_sample)
    assert (model.meta_.coef_ > 0).sum() >= 2
    p = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(np.log(p / (1 - p)), model.decision_function(X), atol=1e-8)


def test_stacking_beats_chance_and_is_deterministic(pop):
    X, y = pop
    bases = [("lr", logistic_stand_in()), ("lgbm", LightGBMFamily(n_estimators=60))]
    assert cv_auc(lambda: StackingHybrid(estimators=bases, inner_folds=3), X, y) > 0.75
    a = StackingHybrid(estimators=bases, random_state=2).fit(X, y).predict_proba(X)
    b = StackingHybrid(estimators=bases, random_state=2).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- all hybrids


@pytest.mark.parametrize("make", [
    lambda: YimMitchellHybrid(first_stage=logistic_stand_in(), inner_folds=3, **SMALL_NET),
    lambda: ExpertBoostHybrid(n_estimators=60),
    lambda: StackingHybrid(estimators=[("lr", logistic_stand_in()),
                                       ("lgbm", LightGBMFamily(n_estimators=40))],
                           inner_folds=3),
], ids=["yim_mitchell", "expert_boost", "stacking"])
def test_shuffled_labels_give_chance_auc(make, pop):
    X, y = pop
    shuffled = np.random.default_rng(2).permutation(y)
    assert abs(cv_auc(make, X, shuffled) - 0.5) < 0.06


def test_bad_components_and_folds_raise(pop):
    X, y = pop
    with pytest.raises(ValueError, match="inner_folds"):
        YimMitchellHybrid(first_stage=logistic_stand_in(), inner_folds=1).fit(X, y)
    with pytest.raises(ValueError, match="first_stage"):
        YimMitchellHybrid(first_stage=StandardScaler()).fit(X, y)
    with pytest.raises(ValueError, match="points"):
        ExpertBoostHybrid(expert=LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="unique"):
        StackingHybrid(estimators=[("a", LogisticRegression()),
                                   ("a", LogisticRegression())]).fit(X, y)


@pytest.mark.parametrize(("labels", "asked", "expected"), [
    ([0] * 10 + [1] * 10, 5, 5),   # enough of each class
    ([0] * 10 + [1] * 3, 5, 3),    # the smaller class caps the folds
    ([0] * 10 + [1] * 1, 5, 0),    # one row of a class: no stratified folds
    ([0] * 10, 5, 0),              # one class only
    (["good"] * 4 + ["bad"] * 4, 3, 3),  # any two labels, not only 0/1
])
def test_inner_fold_number_is_the_one_rule_of_hybrids_and_tuning(labels, asked, expected):
    from scorelab.models.hybrid import inner_fold_number
    from scorelab.models.tuning import inner_splits

    assert inner_fold_number(np.array(labels), asked) == expected
    if expected and isinstance(labels[0], int):
        assert len(inner_splits(np.array(labels), asked, 0)) == expected
