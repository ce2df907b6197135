"""The search's less travelled paths, on tiny populations: monotone-constraint and
mitigation candidates (a mitigation variant trained on one fold: fairlearn's
exponentiated gradient takes seconds per fit), expected cost under ``decision.costs``,
an out-of-time study (``evaluation.split: time``) and a real table (German credit),
where the truth check is not possible and the report says so."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scorelab.config import ModelSpec, load_config
from scorelab.engine import make_folds
from scorelab.evaluate.costs import Costs, expected_cost
from scorelab.lda import LdaSearch, run_search
from scorelab.lda.disparity import approve_share
from scorelab.lda.engine import fit_candidates, prepare_specs
from scorelab.lda.space import SEEDLESS, candidate_space
from scorelab.models.registry import build_model
from scorelab.report.sections.lda import NO_TRUTH, _truth_blocks
from scorelab.study.population import population_for
from tests.lda.conftest import scenario

SMALL_LGB = {"n_estimators": [40], "learning_rate": [0.1]}
#: Longer credit histories can only lower the predicted risk.
MONOTONE = {"credit_history_years": -1}


@pytest.fixture(scope="module")
def varied() -> LdaSearch:
    """Monotone candidates, decision.costs and an out-of-time study (the mitigation
    variant costs seconds per fit, so it is trained on its own below)."""
    config = scenario("age_proxy", 600, **{
        "population.months": 6, "evaluation.split": "time",
        "decision.costs": {"false_accept": 5, "false_reject": 1},
        "lda.proxies": ["credit_history_years"], "lda.monotone": MONOTONE,
        "lda.params": {"trees/lightgbm": SMALL_LGB},
        "models": [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": 40}}]})
    population, _ = population_for(config)
    return run_search(config, population)


def test_space_has_monotone_and_mitigation_variants_and_no_copies() -> None:
    config = scenario("age_proxy", 600, **{
        "lda.families": ["trees/lightgbm", "logit/scorecard"], "lda.seeds": 2,
        "lda.monotone": MONOTONE, "lda.mitigation": True,
        "lda.params": {"trees/lightgbm": SMALL_LGB}})
    space = candidate_space(config, ["credit_history_years", "employment_years"])
    trees = [c.spec for c in space if c.spec.family == "trees"]
    constrained = [s for s in trees if "monotone_constraints" in s.params]
    # 4 drop sets x 2 seeds plain; monotone only where the constrained column is kept
    assert len(trees) == 4 * 2 + 2 * 2 and len(constrained) == 2 * 2
    assert all("credit_history_years" not in s.drop_features for s in constrained)
    mitigation = [c.spec for c in space if c.spec.family == "mitigation"]
    assert len(mitigation) == 2 and all(s.use_protected == ["age"] for s in mitigation)
    assert ("logit", "scorecard") in SEEDLESS
    assert len([c for c in space if c.spec.family == "logit"]) == 4  # one per drop set
    names = [json.dumps([c.spec.family, c.spec.params, c.spec.drop_features],
                        sort_keys=True) for c in space]
    assert len(set(names)) == len(names)


def test_the_scorecard_ignores_its_seed() -> None:
    """Why the scorecard has one seed only (SEEDLESS)."""
    config = scenario("none", 400)
    population, _ = population_for(config)
    X = population.frame[population.schema.with_role("feature")[:4]]
    y = population.frame[population.schema.target].to_numpy()
    spec = {"family": "logit", "kind": "scorecard", "name": "s"}
    p = [build_model(ModelSpec(**spec, params={"random_state": seed})).fit(X, y)
         .predict_proba(X)[:, 1] for seed in (0, 7)]
    np.testing.assert_array_equal(p[0], p[1])


def test_a_mitigation_candidate_is_trained_on_the_attribute() -> None:
    config = scenario("age_proxy", 400, **{"lda.mitigation": True,
                                           "lda.params": {"trees/lightgbm": SMALL_LGB}})
    population, _ = population_for(config)
    spec = next(c.spec for c in candidate_space(config, []) if c.spec.family == "mitigation")
    assert spec.use_protected == ["age"] and spec.params["sensitive"] == "age"
    models = prepare_specs(config, [spec], population.schema)
    y = population.frame[population.schema.target].to_numpy().astype(np.int64)
    fold = make_folds(y, 2, 1, 3)[:1]
    p = fit_candidates(models, population.frame, y, fold).oof[spec.name][0, fold[0].test]
    assert np.isfinite(p).all() and 0 < p.min() < p.max() < 1
    assert "age" in models[0].columns


def test_monotone_candidates_are_trained_and_scored(varied: LdaSearch) -> None:
    t = varied.table.set_index("candidate")
    mono = [n for n, params in t["params"].items() if "monotone_constraints" in params]
    assert len(mono) == 1
    assert t[["auc", "disparity", "auc_loss_se"]].notna().all().all()
    # the constraint holds in the candidate: more credit history never raises the risk
    spec = varied.specs[mono[0]]
    frame = varied.setting.frame
    X = frame[[c for c in varied.setting.reference.columns
               if c not in spec.drop_features]]
    model = build_model(spec).fit(X, varied.setting.y)
    grid = np.linspace(0, X["credit_history_years"].max(), 12)
    rows = pd.concat([X.iloc[:50]] * grid.size, ignore_index=True)
    rows["credit_history_years"] = np.repeat(grid, 50)
    p = model.predict_proba(rows)[:, 1].reshape(grid.size, 50)
    assert (np.diff(p, axis=0) <= 1e-12).all()


def test_expected_cost_is_scored_at_the_reference_rate(varied: LdaSearch) -> None:
    s, t = varied.setting, varied.table
    costs = Costs(false_accept=5, false_reject=1)
    for name in t["candidate"]:
        row = t.set_index("candidate").loc[name]
        approved = approve_share(varied.oof[name], s.rate)[0]
        assert row["expected_cost"] == pytest.approx(expected_cost(s.y, approved, costs))
        assert row["expected_cost_low"] <= row["expected_cost"] <= row["expected_cost_high"]
    assert np.isfinite(varied.reference["expected_cost"])


def test_an_out_of_time_study_is_searched_on_stratified_folds(varied: LdaSearch) -> None:
    """split: time holds the latest months out of the study; the search compares
    candidates on k-fold out-of-fold scores of every citizen (the command then refits the
    reference on these folds instead of reusing the study's)."""
    folds = varied.setting.folds
    tested = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tested), np.arange(len(varied.setting.frame)))
    assert not np.isnan(varied.setting.p_ref).any()


def test_a_real_table_is_checked_on_held_out_rows_and_says_truth_is_not_possible() -> None:
    config = load_config("configs/german_credit.yaml", {
        "models": [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": 40}}],
        "evaluation.folds": 3, "evaluation.n_jobs": 1, "lda.families": ["trees/lightgbm"],
        "lda.params": {"trees/lightgbm": SMALL_LGB}, "lda.seeds": 1, "lda.proxies": [],
        "lda.mitigation": False, "lda.bootstrap": 50, "lda.tolerances": [0.05]})
    population, _ = population_for(config)
    result = run_search(config, population)
    held, searched = result.setting.held, result.setting.frame
    assert held is not None and len(held) + len(searched) == len(population.frame)
    assert len(held) == pytest.approx(0.3 * len(population.frame), abs=2)
    truth = result.truth
    assert truth["possible"] is False and truth["outcome"] == "observed"
    assert "held-out rows" in truth["on"]
    lead, _ = _truth_blocks(truth)
    assert NO_TRUTH in lead and "truth check is not possible" in lead
