"""Mitigation: ExponentiatedGradient with demographic parity by age band narrows the
young-band approval gap of its base, deterministically; the threshold optimizer too."""

from __future__ import annotations

import numpy as np
import pytest

from scorelab.config import ModelSpec
from scorelab.data import generate_population
from scorelab.models.mitigation import ReductionsMitigator, ThresholdMitigator, _WeightedLogit
from scorelab.models.registry import build_model
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


@pytest.fixture(scope="module")
def split():
    cfg = make_config({"population": {"causes": {
        "age_proxy": {"strength": 1.0}, "legitimate_age_effect": {"enabled": False},
        "label_bias": {"enabled": False}, "thin_files": {"enabled": False}}}},
        n=12_000, seed=7)
    pop = generate_population(cfg.population, cfg.seed)
    X = pop.frame[pop.features + ["age"]]
    y = pop.frame["defaulted"].to_numpy()
    return X.iloc[:8000], y[:8000], X.iloc[8000:], y[8000:]


def _young_gap(p: np.ndarray, age: np.ndarray) -> float:
    approved = p < 0.2
    young = age < 26
    return float(approved[~young].mean() - approved[young].mean())


def test_exponentiated_gradient_narrows_the_gap_deterministically(split):
    X, y, Xt, yt = split
    age = Xt["age"].to_numpy()
    mit = ReductionsMitigator(max_iter=15).fit(X, y)
    base = _WeightedLogit().fit(mit._encode(X), y)
    p_base = base.predict_proba(mit._encode(Xt))[:, 1]
    p_mit = mit.predict_proba(Xt)[:, 1]
    assert _young_gap(p_mit, age) < _young_gap(p_base, age) - 0.01
    again = ReductionsMitigator(max_iter=15).fit(X, y).predict_proba(Xt)[:, 1]
    np.testing.assert_array_equal(p_mit, again)
    assert np.unique(p_mit).size > 100  # a score, not a handful of vote shares


def test_threshold_optimizer_is_deterministic_and_narrows_the_gap(split):
    X, y, Xt, _ = split
    age = Xt["age"].to_numpy()
    mit = ThresholdMitigator().fit(X, y)
    p_base = mit.base_.predict_proba(mit._encode(Xt))[:, 1]
    p = mit.predict_proba(Xt)[:, 1]
    assert abs(_young_gap(p, age)) < abs(_young_gap(p_base, age))
    np.testing.assert_array_equal(p, ThresholdMitigator().fit(X, y).predict_proba(Xt)[:, 1])
    assert set(mit.thresholds_) == {"18-25", "26-35", "36-50", "51-61", "62+"}


def test_registered_as_the_mitigation_family():
    est = build_model(ModelSpec(family="mitigation", name="eg",
                                kind="exponentiated_gradient",
                                params={"constraint": "equalized_odds"}))
    assert isinstance(est, ReductionsMitigator)
    est = build_model(ModelSpec(family="mitigation", name="to", kind="threshold_optimizer"))
    assert isinstance(est, ThresholdMitigator)


def test_the_sensitive_column_must_be_an_input(split):
    X, y, _, _ = split
    with pytest.raises(ValueError, match="use_protected"):
        ReductionsMitigator().fit(X.drop(columns="age"), y)


def test_a_categorical_sensitive_column_is_grouped_by_its_values():
    rng = np.random.default_rng(0)
    n = 600
    import pandas as pd

    X = pd.DataFrame({"income": rng.normal(size=n),
                      "Sex": pd.Categorical(rng.choice(["female", "male"], n))})
    X.loc[3, "Sex"] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(1 + X["income"]))).astype(int)
    mit = ThresholdMitigator(sensitive="Sex", protected=("Sex",)).fit(X, y)
    assert mit._sensitive_of(X.iloc[:4]).tolist()[3] == "unknown"
    # the one citizen of unknown sex has one outcome: no threshold of its own, the cut-off
    assert set(mit.thresholds_) == {"female", "male"}
    p_base = mit.base_.predict_proba(mit._encode(X.iloc[[3]]))[:, 1]
    np.testing.assert_allclose(mit.predict_proba(X.iloc[[3]])[:, 1], p_base)
