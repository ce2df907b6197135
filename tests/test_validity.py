"""The age analyses against the planted truth (issue 19): the scenario matrix of
configs/scenarios/, run in memory, its decomposition read as fairness.json carries it.

The must-hold checks run on the scenarios' own populations (6,000-8,000 citizens, scorecard
and LightGBM) and are marked slow; the engine itself is checked fast on a small one.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from scorelab.data.synthetic import generate_population
from scorelab.fairness.age import READ_PENALISES
from scorelab.report.sections.age import decomposition_sentence
from scorelab.study import run_study
from scorelab.validity import planted_truth, scenario_configs, validate

PARTS = ("total", "true_risk", "response_beyond_true_risk", "label_bias", "residual")


def _decompositions(name: str, **overrides):
    cfg = scenario_configs([name])[name]
    cfg = cfg.with_(overrides) if overrides else cfg
    result = run_study(cfg, generate_population(cfg.population, cfg.seed), {})
    fairness = json.loads(json.dumps(result.fairness))  # as fairness.json carries it
    return {m: e["age"]["decomposition"] for m, e in fairness["models"].items()}


def _covers_zero(d, key):
    lo, hi = d["intervals"][key]
    return lo <= 0 <= hi


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20211005, 1, 2])
def test_proxy_only_the_twin_part_carries_the_unexplained_gap(seed):
    for model, d in _decompositions("age_proxy", seed=seed).items():
        part = d["response_beyond_true_risk"]
        assert part < 0, model
        assert part / (d["total"] - d["true_risk"]) >= 0.75, model
        assert d["intervals"]["response_beyond_true_risk"][1] < 0, model
        assert d["reading"]["response_beyond_true_risk"] == READ_PENALISES
        assert "penalise the young through age's descendants" in \
            decomposition_sentence(model, d)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20211005, 1, 2])
def test_legitimate_effect_only_no_proxy_effect_and_the_miss_is_named(seed):
    for model, d in _decompositions("legitimate_age_effect", seed=seed).items():
        for key in PARTS:  # no part read as a proxy effect beyond its half-width
            lo, hi = d["intervals"][key]
            reads_proxy = key == "response_beyond_true_risk" and \
                d["reading"][key] == READ_PENALISES
            assert not (reads_proxy and abs(d[key]) > (hi - lo) / 2), (model, key)
        assert d["response_beyond_true_risk"] > 0
        sentence = decomposition_sentence(model, d)
        assert "missed age difference in risk" in sentence, sentence
        assert "do not reflect an age difference in risk" in sentence


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20211005, 1, 2])
def test_no_cause_every_interval_covers_zero(seed):
    for model, d in _decompositions("none", seed=seed).items():
        for key in PARTS:
            assert _covers_zero(d, key), (model, key, d[key], d["intervals"][key])


def test_planted_values_come_from_the_population_model():
    cfg = scenario_configs(["legitimate_age_effect"])["legitimate_age_effect"]
    cfg = cfg.with_({"population.n_citizens": 2000})
    truth = planted_truth(cfg, generate_population(cfg.population, cfg.seed).frame)
    assert truth["risk_shift_logit"] < -0.2  # older twins: lower true risk
    assert truth["history_years"] == pytest.approx(0.0, abs=1e-9)  # no proxy planted
    assert truth["thin_file_drop"] == 0.0
    proxy = scenario_configs(["age_proxy"])["age_proxy"].with_(
        {"population.n_citizens": 2000})
    t = planted_truth(proxy, generate_population(proxy.population, proxy.seed).frame)
    assert t["history_years"] > 5 and t["employment_years"] > 5
    assert t["risk_shift_logit"] == pytest.approx(0.0, abs=1e-9)
    assert set(t["proxies"][:2]) == {"credit_history_years", "employment_years"}


def test_engine_rows_on_a_small_none_scenario():
    rows = validate(["none"], overrides={"population.n_citizens": 3000,
                                         "models": [{"family": "logit", "name": "scorecard",
                                                     "kind": "scorecard"}]})
    assert set(rows["analysis"].str.split(" ").str[0]) >= {"response", "label", "residual"}
    assert rows["passed"].notna().all()
    assert rows["passed"].all(), rows.to_string()
    assert np.isfinite(rows["low"].astype(float)).all()


def test_cli_names_an_unknown_scenario_in_one_line():
    from typer.testing import CliRunner

    from scorelab.cli import app

    result = CliRunner().invoke(app, ["validate-truth", "--scenarios", "none,nope"])
    assert result.exit_code == 1
    assert "unknown scenario(s) nope" in result.output
    assert "age_proxy" in result.output  # the known ones are listed
