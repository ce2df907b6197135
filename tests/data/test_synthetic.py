"""The population model: determinism, each planted cause on/off, twins, realism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from scorelab.data import SCHEMA, counterfactual_twins, generate_population
from scorelab.data.io import population_bytes
from scorelab.data.synthetic import poisson_from_uniform
from scorelab.exceptions import DataError
from tests.conftest import make_config


def _pop(overrides: dict | None = None, n: int = 20_000, seed: int = 7) -> pd.DataFrame:
    cfg = make_config(overrides, n=n, seed=seed)
    return generate_population(cfg.population, cfg.seed).frame


def _off(cause: str) -> dict:
    return {"population": {"causes": {cause: {"enabled": False}}}}


def test_same_seed_gives_byte_identical_parquet() -> None:
    cfg = make_config(n=3000)
    a = population_bytes(generate_population(cfg.population, cfg.seed))
    b = population_bytes(generate_population(cfg.population, cfg.seed))
    c = population_bytes(generate_population(cfg.population, cfg.seed + 1))
    assert a == b
    assert a != c


def test_columns_follow_the_schema_and_sources() -> None:
    frame = _pop(n=2000)
    assert list(frame.columns) == SCHEMA.names
    assert set(SCHEMA.with_role("protected")) == {"age", "sex", "minority", "region"}
    assert {"latent_reliability", "true_pd", "true_default"} == set(SCHEMA.with_role("truth"))
    sources = {c.source for c in SCHEMA.columns if c.role in ("feature", "prohibited")}
    assert sources == {"administrative", "personal", "business", "organisation", "webspace"}
    assert {"friends_avg_score", "family_score", "health_events",
            "situational_events"} <= set(SCHEMA.with_role("prohibited"))
    assert frame["age"].between(18, 80).all()


def test_age_proxy_on_and_off() -> None:
    on, off = _pop(), _pop(_off("age_proxy"))
    strong = _pop({"population": {"causes": {"age_proxy": {"strength": 1.0}}}})
    for col in ("credit_history_years", "employment_years"):
        assert strong["age"].corr(strong[col]) > on["age"].corr(on[col]) > 0.5
        assert abs(off["age"].corr(off[col])) < 0.05
        # the proxy also carries reliability, which is why a model learns age through it
        assert on[col].corr(on["latent_reliability"]) > 0.4


def test_situational_events_raise_late_payments_but_not_true_risk() -> None:
    on, off = _pop(), _pop(_off("situational_events"))
    hit = on["situational_events"] > 0
    assert hit.mean() > 0.1
    np.testing.assert_array_equal(on["true_pd"], off["true_pd"])
    assert (on["late_payments"] >= off["late_payments"]).all()
    assert on.loc[hit, "late_payments"].mean() > 1.5 * off.loc[hit, "late_payments"].mean()
    pd.testing.assert_series_equal(on.loc[~hit, "late_payments"], off.loc[~hit, "late_payments"])


def test_health_events_raise_claims_and_late_payments_but_not_true_risk() -> None:
    on, off = _pop(), _pop(_off("health_events"))
    ill = on["health_events"] > 0
    np.testing.assert_array_equal(on["true_pd"], off["true_pd"])
    assert on.loc[ill, "insurance_claims"].mean() > 1.3 * off.loc[ill, "insurance_claims"].mean()
    assert on.loc[ill, "late_payments"].mean() > off.loc[ill, "late_payments"].mean()


def test_thin_files_hit_the_young_only_when_on() -> None:
    on, off = _pop(), _pop(_off("thin_files"))
    missing = on["credit_history_years"].isna()
    assert missing[on["age"] < 23].mean() > 0.25
    assert missing[on["age"] > 50].mean() < 0.01
    assert off[["credit_history_years", "utilisation"]].notna().all().all()


def test_family_friends_scores_track_reliability_only_when_on() -> None:
    on, off = _pop(), _pop(_off("family_friends"))
    for col in ("friends_avg_score", "family_score"):
        assert on[col].corr(on["latent_reliability"]) == pytest.approx(0.5, abs=0.03)
        assert abs(off[col].corr(off["latent_reliability"])) < 0.03


def test_label_bias_hits_the_targeted_group_only() -> None:
    on, off = _pop(), _pop(_off("label_bias"))
    target = on["minority"] == "minority"
    pd.testing.assert_series_equal(on["true_default"], off["true_default"])
    pd.testing.assert_series_equal(on.loc[~target, "defaulted"], off.loc[~target, "defaulted"])
    assert on.loc[target, "defaulted"].mean() > off.loc[target, "defaulted"].mean() + 0.04
    assert (off["defaulted"] == off["true_default"]).all()


def test_label_bias_can_target_the_young() -> None:
    overrides = {"population": {"causes": {"label_bias": {
        "flip_rate": 0.2, "group": {"attribute": "young", "young_below": 26}}}}}
    frame = _pop(overrides)
    young = frame["age"] < 26
    gap = frame["defaulted"] - frame["true_default"]
    assert gap[young].mean() > 0.1
    assert gap[~young].sum() == 0


def test_bad_label_bias_value_is_named() -> None:
    overrides = {"population": {"causes": {"label_bias": {"group": {"attribute": "sex",
                                                                    "value": "other"}}}}}
    with pytest.raises(DataError, match=r"label_bias.group.value: 'other'.*female, male"):
        _pop(overrides, n=100)


def test_legitimate_age_effect_on_and_off() -> None:
    on, off = _pop(), _pop(_off("legitimate_age_effect"))
    young = on["age"] < 26
    assert on.loc[young, "true_pd"].mean() > 1.2 * on.loc[~young, "true_pd"].mean()
    # off: true risk does not depend on age at all
    logit = np.log(off["true_pd"] / (1 - off["true_pd"]))
    assert abs(off["age"].corr(logit)) < 0.03


AGE_DESCENDANTS = {"age", "dependents", "credit_history_years", "employment_years",
                   "open_credit_lines", "utilisation", "bill_payment_regularity", "true_pd",
                   "true_default", "defaulted"}


def test_age_twins_keep_every_draw_but_age_and_its_descendants() -> None:
    cfg = make_config(n=5000)
    factual = generate_population(cfg.population, cfg.seed).frame
    twins = counterfactual_twins(cfg.population, cfg.seed, {"age": lambda a: a + 20}).frame
    np.testing.assert_allclose(twins["age"], np.clip(factual["age"] + 20, 18, 80), atol=1e-3)
    for col in SCHEMA.names:
        if col not in AGE_DESCENDANTS:
            pd.testing.assert_series_equal(twins[col], factual[col], obj=col)
    both = factual["credit_history_years"].notna() & twins["credit_history_years"].notna()
    assert (twins.loc[both, "credit_history_years"]
            >= factual.loc[both, "credit_history_years"]).all()
    assert twins["credit_history_years"].isna().sum() < factual["credit_history_years"].isna().sum()
    assert twins["employment_years"].mean() > factual["employment_years"].mean() + 8
    young = factual["age"] < 30
    assert twins.loc[young, "true_pd"].mean() < factual.loc[young, "true_pd"].mean()


def test_age_twins_without_age_paths_change_nothing_downstream() -> None:
    overrides = {"population": {"causes": {c: {"enabled": False} for c in
                                           ("age_proxy", "legitimate_age_effect", "thin_files")}}}
    cfg = make_config(overrides, n=5000)
    factual = generate_population(cfg.population, cfg.seed).frame
    twins = counterfactual_twins(cfg.population, cfg.seed, {"age": lambda a: a + 20}).frame
    for col in ("credit_history_years", "employment_years", "true_pd", "defaulted"):
        pd.testing.assert_series_equal(twins[col], factual[col], obj=col)


def test_identity_twin_is_the_factual_population() -> None:
    cfg = make_config(n=3000)
    factual = generate_population(cfg.population, cfg.seed).frame
    twins = counterfactual_twins(cfg.population, cfg.seed, {"age": lambda a: a}).frame
    pd.testing.assert_frame_equal(twins, factual)


def test_categorical_intervention_and_unknown_node() -> None:
    cfg = make_config(n=2000)
    twins = counterfactual_twins(cfg.population, cfg.seed, {"minority": "majority"}).frame
    assert (twins["minority"] == "majority").all()
    assert (twins["defaulted"] == twins["true_default"]).all()  # label bias no longer applies
    with pytest.raises(DataError, match="not a node"):
        counterfactual_twins(cfg.population, cfg.seed, {"shoe_size": 3})
    with pytest.raises(DataError, match="not one of"):
        counterfactual_twins(cfg.population, cfg.seed, {"sex": "unknown"})


def test_default_population_is_realistic() -> None:
    frame = _pop(n=50_000)
    rate = frame["defaulted"].mean()
    assert 0.10 <= rate <= 0.30
    assert 0.80 <= roc_auc_score(frame["defaulted"], frame["true_pd"]) <= 0.88
    young_ratio = frame.loc[frame["age"] < 26, "defaulted"].mean() / rate
    assert 1.2 <= young_ratio <= 1.5
    assert 0.02 <= (frame["age"] >= 66).mean() <= 0.08
    assert 0.10 <= (frame["minority"] == "minority").mean() <= 0.20


@settings(max_examples=30, deadline=None)
@given(lam=st.floats(0.0, 30.0), seed=st.integers(0, 2**16))
def test_poisson_from_uniform_is_poisson_and_monotone(lam: float, seed: int) -> None:
    u = np.random.default_rng(seed).random(20_000)
    draws = poisson_from_uniform(u, np.full(u.shape, lam))
    assert abs(draws.mean() - lam) < 5 * np.sqrt(max(lam, 1e-3) / u.size) + 1e-9
    more = poisson_from_uniform(u, np.full(u.shape, lam + 1.0))
    assert (more >= draws).all()


def test_committed_sample_matches_the_default_config() -> None:
    """data/synthetic/citizens_10k.parquet is what the default config makes at 10k."""
    from scorelab.config import load_config
    from scorelab.data import read_population
    from tests.conftest import DEFAULT_CONFIG, ROOT

    committed = read_population(ROOT / "data" / "synthetic" / "citizens_10k.parquet")
    cfg = load_config(DEFAULT_CONFIG)
    population = cfg.population.model_copy(update={"n_citizens": 10_000})
    fresh = generate_population(population, cfg.seed)
    pd.testing.assert_frame_equal(committed.frame, fresh.frame)
    assert committed.schema == fresh.schema
