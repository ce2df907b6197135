"""The Explainable Boosting Machine family: an exact additive explanation, its shape
functions as the deliverable points table, monotone constraints while fitting, and a
place in the registry and the config like every family."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scorelab.config import ModelSpec, config_from_dict
from scorelab.core.numeric import logit
from scorelab.core.scale import ScoreScale
from scorelab.data import generate_population
from scorelab.explain import background_sample, explain, explainer_kind
from scorelab.models.ebm import ExplainableBoostingFamily
from scorelab.models.registry import DEFAULT_KIND, FAMILY_CLASSES, build_model

SMALL = {"max_bins": 32, "outer_bags": 2, "max_rounds": 400, "interactions": 3}


@pytest.fixture(scope="module")
def data():
    cfg = config_from_dict({"seed": 4, "population": {"n_citizens": 1500}})
    pop = generate_population(cfg.population, cfg.seed)
    X = pop.frame[pop.features]
    y = pop.frame["defaulted"].to_numpy()
    return X.iloc[:1200], y[:1200], X.iloc[1200:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _ = data
    return ExplainableBoostingFamily(**SMALL, monotone_constraints={"late_payments": 1}
                                     ).fit(X, y)


def test_it_is_a_registered_family_built_from_a_config():
    assert ExplainableBoostingFamily in FAMILY_CLASSES
    assert DEFAULT_KIND["additive"] == "ebm"
    model = build_model(ModelSpec(family="additive", name="ebm", params={"interactions": 2}))
    assert isinstance(model, ExplainableBoostingFamily) and model.interactions == 2


def test_contributions_and_intercept_reproduce_the_log_odds(fitted, data):
    _, _, X_test = data
    contrib = fitted.log_odds_contributions(X_test)
    assert list(contrib.columns) == ["intercept", *X_test.columns]
    output = fitted.decision_function(X_test)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), output, atol=1e-9)
    np.testing.assert_allclose(logit(fitted.predict_proba(X_test)[:, 1]), output, atol=1e-6)


def test_a_pairwise_term_is_split_between_its_two_inputs(fitted, data):
    _, _, X_test = data
    terms = fitted.ebm_.eval_terms(X_test)
    pairs = [t for t, f in enumerate(fitted.ebm_.term_features_) if len(f) == 2]
    assert pairs, "the fitted model has an interaction term"
    contrib = fitted.log_odds_contributions(X_test).drop(columns="intercept").to_numpy()
    for j in range(X_test.shape[1]):
        expected = sum(terms[:, t] / len(f) for t, f in
                       enumerate(fitted.ebm_.term_features_) if j in f)
        np.testing.assert_allclose(contrib[:, j], expected, atol=1e-12)


def test_the_explanation_is_exact_and_adds_up_to_the_score(fitted, data):
    X, _, X_test = data
    assert explainer_kind(fitted) == "additive"
    e = explain(fitted, X_test.iloc[:50], background_sample(X, 40, seed=1))
    assert e.method == "additive (exact)"
    assert e.additivity_error() < 1e-6
    np.testing.assert_allclose(e.output, fitted.decision_function(X_test.iloc[:50]),
                               atol=1e-9)


def test_the_points_table_is_the_model_in_points_of_its_scale(fitted, data):
    table = fitted.deliverable_tables()["points_table.csv"]
    factor = fitted.pdo / math.log(2.0)
    terms = table[table["term"] != "(intercept)"]
    np.testing.assert_allclose(terms["points"], -factor * terms["log_odds"], atol=1e-9)
    assert set(terms["term"]) == set(fitted.ebm_.term_names_)
    intercept = table[table["term"] == "(intercept)"].iloc[0]
    scale = ScoreScale(pdo=fitted.pdo, base_score=fitted.base_points,
                       base_odds=fitted.odds, low=-1e9, high=1e9, bands=((-1e9, "all"),))
    p0 = 1 / (1 + math.exp(-intercept["log_odds"]))
    assert intercept["points"] == pytest.approx(float(scale.points(p0)), abs=1e-6)
    # a citizen's points: the intercept's plus the points of the bins they fall in
    _, _, X_test = data
    contrib = fitted.log_odds_contributions(X_test.iloc[:5]).drop(columns="intercept")
    total = intercept["points"] - factor * contrib.sum(axis=1).to_numpy()
    p = fitted.predict_proba(X_test.iloc[:5])[:, 1]
    np.testing.assert_allclose(total, scale.points(p), atol=1e-6)


def test_a_monotone_input_only_raises_the_risk_and_has_no_interaction(fitted, data):
    assert all(fitted.columns_.index("late_payments") not in f
               for f in fitted.ebm_.term_features_ if len(f) == 2)
    _, _, X_test = data
    rows = pd.concat([X_test.iloc[:20]] * 8, ignore_index=True)
    rows["late_payments"] = np.repeat(np.arange(8), 20)
    z = fitted.decision_function(rows).reshape(8, 20)
    assert (np.diff(z, axis=0) >= -1e-12).all()


def _late_payment_steps(model, X_test):
    rows = pd.concat([X_test.iloc[:20]] * 8, ignore_index=True)
    rows["late_payments"] = np.repeat(np.arange(8), 20)
    return np.diff(model.decision_function(rows).reshape(8, 20), axis=0)


def test_the_constraint_not_the_data_sets_the_direction(data):
    """The control: late payments raise the risk in the data, so a model told the
    opposite (-1) must override it, and the same model left free does not."""
    X, y, X_test = data
    free = ExplainableBoostingFamily(**SMALL).fit(X, y)
    against = ExplainableBoostingFamily(**SMALL, monotone_constraints={"late_payments": -1}
                                        ).fit(X, y)
    assert (_late_payment_steps(free, X_test) > 1e-6).any()
    assert (_late_payment_steps(against, X_test) <= 1e-12).all()


def test_bad_values_are_refused_before_any_fit():
    for params, key in (({"max_bins": 2}, "max_bins"), ({"interactions": -1}, "interactions"),
                        ({"learning_rate": 0}, "learning_rate"),
                        ({"monotone_constraints": {"income": 2}}, "monotone_constraints")):
        with pytest.raises(ValueError, match=key):
            ExplainableBoostingFamily(**params)._validate_params_values()
