"""Adverse-action reasons, counterfactuals, reason fidelity and the age rule.

One small study (1,200 citizens, 2 folds, one process) on a population where one
planted cause, debt-to-income, dominates the declines: latent reliability hardly matters
(risk_signal 0.2), no label bias, no legitimate age effect. Five exact-explainer
models: the scorecard (six inputs), LightGBM (every input), a Suining expert with a debt
rule, and two Suining variants given age (one penalising age, one favouring it) for the
age rule; the experts see only the inputs their rules name (the others would carry zero
points, so they could never be reasons). Three learned models whose reasons come through
a network (the MLP, by DeepSHAP) or through members and weights (stacking, HCES-Bag) must
find the planted cause too. The same properties at 2,000 citizens with
every model on every input run under ``-m slow``.
"""

from __future__ import annotations

import itertools
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from scorelab.config import config_from_dict
from scorelab.data.synthetic import SCHEMA, generate_population, solve_intercept
from scorelab.engine import make_folds
from scorelab.explain.adverse import (
    METHOD_APPROVED,
    METHOD_POINTS,
    additive_terms,
    rank_reasons,
)
from scorelab.explain.adverse_artifacts import NO_CHANGE
from scorelab.explain.catalogue import catalogue_for, value_in_words
from scorelab.explain.counterfactual import AdditiveScore, counterfactuals, search_grid
from scorelab.explain.fidelity import (
    jaccard,
    terms_reproduce_truth,
    true_terms,
)
from scorelab.fairness.age_rule import age_rule
from scorelab.runs.contract import AdverseAction, AgeRule
from scorelab.study.runner import run_study
from tests.conftest import ROOT

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

DEBT_RULES = {"debt_to_income": -1500.0, "late_payments": -10.0, "unpaid_debts": -50.0}
EXACT = ["scorecard", "lightgbm", "expert_debt"]
LEARNED = ["mlp", "stacking", "hces_bag"]  # DeepSHAP, and through members and weights
KEEP = ["debt_to_income", "income", "late_payments", "utilisation", "employment_years",
        "education"]
FACTOR = 20 / np.log(2)  # score points per log-odds at pdo 20
DEBT_STRENGTH = 5.0  # log-odds per unit of log(debt_to_income / 0.3): the dominant cause


def _config(n_citizens: int = 1200, full: bool = False):
    """The study: ``full`` gives the experts every input and LightGBM 60 trees."""
    features = [c for c in SCHEMA.with_role("feature") if c not in KEEP]
    unruled = [] if full else [c for c in features if c not in DEBT_RULES]
    return config_from_dict({
        "name": "dominant_debt", "seed": 5,
        "population": {"n_citizens": n_citizens, "causes": {
            "label_bias": {"enabled": False}, "legitimate_age_effect": {"enabled": False}}},
        "models": [
            {"family": "logit", "name": "scorecard", "kind": "scorecard",
             "drop_features": features},  # few columns: optbinning fits fast
            {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
             "params": {"n_estimators": 60 if full else 40}},
            {"family": "expert", "name": "expert_debt", "kind": "suining",
             "drop_features": unruled, "params": {"rules": DEBT_RULES}},
            {"family": "expert", "name": "age_penalised", "kind": "suining",
             "use_protected": ["age"], "drop_features": unruled,
             "params": {"rules": {**DEBT_RULES, "age": -4.0}}},
            {"family": "expert", "name": "age_favoured", "kind": "suining",
             "use_protected": ["age"], "drop_features": unruled,
             "params": {"rules": {**DEBT_RULES, "age": 4.0}}},
            # the learned families whose reasons come through a network or members; the
            # hybrids' members are trees and networks (a scorecard member, optbinning on
            # every input, would cost most of the study; the scorecard is tested above)
            {"family": "neural", "name": "mlp", "kind": "mlp",  # sized for 600 rows
             "params": {"hidden_layer_sizes": [16], "alpha": 3.0, "early_stopping": False,
                        "max_iter": 500}},
            {"family": "hybrid", "name": "stacking", "kind": "stacking",
             "params": {"inner_folds": 2, "estimators": ["trees/lightgbm", "neural/mlp"]}},
            {"family": "hybrid", "name": "hces_bag", "kind": "hces_bag",
             "params": {"budget": 2, "inner_folds": 2, "bags": 3,
                        "estimators": ["trees/lightgbm", "trees/forest", "neural/mlp"]}}],
        # one process: worker start-up would cost more than these fits
        "evaluation": {"folds": 2, "bootstrap": 0, "n_jobs": 1},
        "explain": {"sample_size": n_citizens, "reasons": {"bootstrap_refits": 1}},
        "fairness": {"enabled": False},
        "decision": {"target_approval_rate": 0.7},  # 30% declined: >= 300 of 1,200
        "output": {"save_models": "none"}})


def planted_population(config):
    """The generator's citizens, their outcome redrawn from one dominant cause: true
    log-odds = c + 5 log(debt_to_income / 0.3) (c: a 20% default rate)."""
    population = generate_population(config.population, config.seed)
    frame = population.frame
    term = DEBT_STRENGTH * np.log(frame["debt_to_income"].to_numpy() / 0.3)
    c = solve_intercept(term, 0.2)
    true_pd = 1 / (1 + np.exp(-(c + term)))
    drawn = (np.random.default_rng(3).random(len(frame)) < true_pd).astype(np.int8)
    frame["true_pd"], frame["true_default"], frame["defaulted"] = true_pd, drawn, drawn
    return population


def _study(config):
    population = planted_population(config)
    result = run_study(config, population, {})
    cutoffs = {n: m["decision"]["cutoff_score"] for n, m in result.metrics["models"].items()}
    y = population.frame["defaulted"].to_numpy()
    folds = make_folds(y, config.evaluation.folds, config.evaluation.repeats, config.seed)
    return result, cutoffs, folds


def _adverse(study):
    """The study's own adverse-action stage (run_study ran it with these cut-offs)."""
    assert study[0].adverse is not None
    return study[0].adverse


@pytest.fixture(scope="module")
def study():
    return _study(_config())


@pytest.fixture(scope="module")
def adverse(study):
    return _adverse(study)


def _decisions(result, model):
    pred = result.predictions
    return pred[(pred["model"].astype(str) == model) & (pred["repeat"] == 0)] \
        .set_index("citizen_id")


# --------------------------------------------------------------------------- must hold


def _first_reason_share(result, adverse, model) -> tuple[int, float]:
    """(declined explained citizens, share whose first reason is debt-to-income)."""
    explained = result.explanations.loc[result.explanations["model"] == model,
                                        "citizen_id"].unique()
    declined = ~_decisions(result, model).loc[explained, "approved"]
    first = adverse.reasons[(adverse.reasons["model"] == model)
                            & (adverse.reasons["rank"] == 1)].set_index("citizen_id")
    first = first["feature"].reindex(declined.index[declined.to_numpy()])
    return int(declined.sum()), float((first == "debt_to_income").mean())


@pytest.mark.parametrize("model", EXACT + LEARNED)
def test_the_planted_cause_is_the_first_reason_of_the_declined(study, adverse, model):
    n, share = _first_reason_share(study[0], adverse, model)
    assert n >= 300
    assert share >= 0.95, f"{model}: debt first for {share:.1%} of the declined"


@pytest.mark.slow
def test_the_planted_cause_leads_at_full_size_with_every_input():
    """2,000 citizens, 30% declined, experts and LightGBM on every input."""
    full = _study(_config(2000, full=True))
    adverse = _adverse(full)
    for model in EXACT:
        n, share = _first_reason_share(full[0], adverse, model)
        assert n >= 500
        assert share >= 0.95, f"{model}: debt first for {share:.1%} of the declined"
    assert not set(adverse.reasons["feature"]) & set(adverse.summary["barred"])
    assert (adverse.reasons["gap"] > 0).all() and (adverse.reasons["shap"] > 0).all()


def test_no_barred_input_and_no_favourable_contribution_is_a_reason(study, adverse):
    reasons = adverse.reasons
    barred = set(adverse.summary["barred"])
    assert {"age", "sex", "minority", "region", "health_events"} <= barred
    assert not set(reasons["feature"]) & barred
    assert (reasons["gap"] > 0).all() and (reasons["shap"] > 0).all()
    assert reasons.groupby(["model", "citizen_id"]).size().max() <= 4
    assert set(reasons["method"]) == {METHOD_POINTS, METHOD_APPROVED}


def test_approved_applicants_get_no_reasons(study, adverse):
    result = study[0]
    for model in adverse.summary["models"]:
        approved = _decisions(result, model)["approved"]
        mine = adverse.reasons.loc[adverse.reasons["model"] == model, "citizen_id"]
        assert not approved.loc[mine.unique()].any(), model
        assert (adverse.reasons.loc[adverse.reasons["model"] == model, "rank"] >= 1).all()


def test_a_barred_input_that_would_rank_flags_the_model(adverse):
    flagged = {(f["model"], f["column"]) for f in adverse.policy_flags}
    assert ("age_penalised", "age") in flagged
    assert not any(model in EXACT for model, _ in flagged)
    assert all(f["check"] == "adverse_reason" for f in adverse.policy_flags)


def test_age_rule_fails_a_model_penalising_the_elderly_and_passes_one_favouring_them(study):
    result = study[0]
    frame = result.population.frame
    rule = age_rule(result.explanations, frame.set_index("citizen_id")["age"],
                    {m.name: m.columns for m in result.models}, "age", [18, 26, 36, 51, 66],
                    ["credit_history_years", "employment_years"], factor=FACTOR)
    models = rule["models"]
    assert rule["groups"] == ["18-25", "26-35", "36-50", "51-61", "62+"]
    assert models["age_penalised"]["verdict"] == "fail"
    assert models["age_penalised"]["margin"] < 0
    assert models["age_favoured"]["verdict"] == "pass"
    assert models["age_favoured"]["margin"] >= 0
    for name in ("age_penalised", "age_favoured"):  # a planted age rule is no noise
        low, high = models[name]["margin_interval"]
        assert low <= models[name]["margin"] <= high
        assert models[name]["distinguishable_from_zero"]
        assert "not distinguishable" not in models[name]["evidence"]
    for name in EXACT:
        assert models[name]["verdict"] == "does not apply"
        assert models[name]["proxy_groups"]  # the proxies are shown beside it


def test_the_study_artifacts_keep_the_run_contract(study, adverse):
    """What run_study hands the writer validates (strict keys): the summary and the age
    rule with its interval, seeded by the config."""
    result = study[0]
    AdverseAction.model_validate(adverse.summary)
    rule = AgeRule.model_validate(result.age_rule)
    assert rule.bootstrap == result.config.fairness.bootstrap
    assert rule.models["age_penalised"]["margin_interval"] is not None


def _age_table(shift: float, n: int = 600, seed: int = 0):
    """A long explanations table of one model whose age contribution is noise, the 62+
    applicants' shifted by ``shift`` log-odds."""
    rng = np.random.default_rng(seed)
    ages = pd.Series(rng.integers(18, 80, n).astype(float), index=np.arange(n) + 100)
    shap = rng.normal(0.0, 1.0, n) + np.where(ages.to_numpy() >= 62, shift, 0.0)
    table = pd.DataFrame({"citizen_id": ages.index, "model": "m", "feature": "age",
                          "shap": shap})
    return table, ages


@pytest.mark.parametrize("shift,verdict,distinct", [(0.0, None, False),
                                                     (2.0, "fail", True),
                                                     (-2.0, "pass", True)])
def test_the_age_rule_margin_has_an_interval_that_tells_noise_from_a_difference(
        shift, verdict, distinct):
    table, ages = _age_table(shift)
    rule = age_rule(table, ages, {"m": ["age"]}, "age", [18, 26, 36, 51, 66], [],
                    n_boot=200, seed=3, factor=FACTOR)
    entry = rule["models"]["m"]
    low, high = entry["margin_interval"]
    assert low < high and entry["distinguishable_from_zero"] is distinct
    assert (low > 0 or high < 0) is distinct
    assert ("not distinguishable from zero" in entry["evidence"]) is (not distinct)
    if verdict:
        assert entry["verdict"] == verdict
    # the evidence a person reads is in points of the scale (pdo 20: 28.85 per log-odds)
    assert "log-odds" not in entry["evidence"] and " points" in entry["evidence"]
    assert f"margin {entry['margin'] * FACTOR:+.1f} points" in entry["evidence"]
    # determinism: the same seed gives the same interval; another seed another one
    again = age_rule(table, ages, {"m": ["age"]}, "age", [18, 26, 36, 51, 66], [],
                     n_boot=200, seed=3, factor=FACTOR)["models"]["m"]
    assert again["margin_interval"] == entry["margin_interval"]
    assert age_rule(table, ages, {"m": ["age"]}, "age", [18, 26, 36, 51, 66], [],
                    n_boot=0, factor=FACTOR)["models"]["m"]["margin_interval"] is None
    # a handful per group: no interval is claimed, and the evidence says why
    few, few_ages = _age_table(shift, n=30)
    small = age_rule(few, few_ages, {"m": ["age"]}, "age", [18, 26, 36, 51, 66], [],
                     n_boot=200, seed=3, factor=FACTOR)["models"]["m"]
    assert small["margin_interval"] is None and small["distinguishable_from_zero"] is None
    assert "fewer than 10 explained applicants" in small["evidence"]


# --------------------------------------------------------------------------- recourse


def test_counterfactuals_turn_the_decision_with_actionable_inputs_only(study, adverse):
    _, cutoffs, _ = study
    recourse = adverse.recourse
    catalogue = adverse.summary["codes"]
    for model, rows in recourse.groupby("model"):
        found = rows[rows["found"]]
        assert (found["new_score"] >= cutoffs[model]).all()
        assert (found["cost"] > 0).all()
        changed = found["change"].str.split("; ").explode().str.split(": ").str[0]
        assert all(catalogue[c.replace(" ", "_")]["actionable"] for c in changed), model
        summary = adverse.summary["models"][model]["recourse"]
        assert summary["share_found"] == pytest.approx(rows["found"].mean())
        assert summary["n_found"] + summary["n_proven_none"] + summary["n_undecided"] == \
            len(rows)
        assert set(rows["status"]) <= {"found", "none", "undecided"}
        # "no actionable change found" only where the bound proves it
        none = rows[rows["status"] == "none"]
        assert none["change"].str.startswith(NO_CHANGE).all()
        assert (none["bound"] < cutoffs[model]).all()
        undecided = rows[rows["status"] == "undecided"]
        assert not undecided["change"].str.startswith(NO_CHANGE).any()
        assert (undecided["best_score"] < cutoffs[model]).all()
        additive = model in ("scorecard", "expert_debt", "age_penalised", "age_favoured")
        assert rows["bound"].notna().all() == additive, model
        if additive:  # the bound is above anything the search reached
            assert (rows["bound"] >= rows[["best_score", "new_score"]].max(axis=1) - 1e-6
                    ).all()


def test_the_cheapest_change_is_found():
    # points = 600 + 10 x - 50 y, cut-off 600; the population has x in -10..10, y in 0..10
    X = pd.DataFrame({"x": [-1.0, 0.0, -30.0], "y": [1.0, 0.5, 10.0]})
    population = pd.DataFrame({"x": np.linspace(-10, 10, 21), "y": np.linspace(0, 10, 21)})
    grids = search_grid(population, ["x", "y"])

    def points(f):
        return 600 + 10 * f["x"].to_numpy() - 50 * f["y"].to_numpy()

    alone = counterfactuals(points, X, 600.0, ["x", "y"], grids)
    # row 0 (540): y -> 0 gives 590, so x must reach 5: the smallest grid value >= 5
    assert alone.columns[0].tolist() == ["x", None, None]
    assert alone.values[0, 0] == min(v for v in grids["x"].fine if v >= 5)
    # row 1 (575): y 0.5 -> 0 (2 percentiles away) beats x 0 -> 2.5 or more
    assert alone.columns[1, 0] == "y" and alone.values[1, 0] == 0
    # row 2 (-200): no single change suffices; two together do (fewest inputs first)
    assert alone.found.tolist() == [True, True, True]
    assert set(alone.columns[2, :2]) == {"x", "y"} and alone.columns[2, 2] is None
    moved = dict(zip(alone.columns[2, :2], alone.values[2, :2], strict=True))
    assert points(pd.DataFrame({"x": [moved["x"]], "y": [moved["y"]]}))[0] >= 600
    assert np.all(alone.new_score[alone.found] >= 600)
    # only actionable inputs move: y alone cannot lift row 0 or row 2; no bound without
    # an additive table, so they are undecided (never "proven none")
    frozen = counterfactuals(points, X, 600.0, ["y"], grids)
    assert frozen.status.tolist() == ["undecided", "found", "undecided"]
    assert frozen.best_score[0] == pytest.approx(590.0)
    # a direction is honoured: y may only go up, so row 1 must raise x instead
    up = search_grid(population, ["x", "y"], {"y": "up"})
    assert counterfactuals(points, X, 600.0, ["x", "y"], up).columns[1, 0] == "x"


def _toy_additive(n_inputs=4, seed=0):
    """An additive score: log-odds of default = -1 + sum_j w_j x_j on small integer grids."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.6, n_inputs)
    columns = [f"x{j}" for j in range(n_inputs)]
    population = pd.DataFrame(rng.integers(0, 5, (400, n_inputs)).astype(float),
                              columns=columns)
    scale = config_from_dict({}).scale
    from scorelab.core.scale import scale_from_config

    score_scale = scale_from_config(scale)

    def terms(frame):
        return frame[columns].to_numpy(dtype=float) * weights

    def log_odds_points(z):
        return score_scale.points(1 / (1 + np.exp(-z)))

    def points(frame):
        return log_odds_points(-1.0 + terms(frame).sum(axis=1))
    additive = AdditiveScore(terms, -1.0, log_odds_points, population)
    return population, columns, points, additive


def test_additive_recourse_is_exhaustive_and_its_proof_holds():
    """Brute force over every change of up to three inputs on the same small grids finds
    nothing the search missed, nothing cheaper, and nothing for the proven."""
    population, columns, points, additive = _toy_additive()
    directions = {"x0": "down", "x1": None, "x2": "up", "x3": None}
    grids = search_grid(population, columns, directions)
    for g in grids.values():
        g.coarse = g.fine  # one grid for every depth, as the brute force uses
    X = population.iloc[:150].reset_index(drop=True)
    cutoff = float(np.quantile(points(population), 0.7))
    actionable = ["x0", "x1", "x2"]  # x3 is immutable
    cf = counterfactuals(points, X, cutoff, actionable, grids, additive)
    declined = points(X) < cutoff
    assert {"found", "none"} <= set(cf.status[declined])
    column = {c: population[c] for c in actionable}
    for i in np.flatnonzero(declined):
        best = None
        now = {c: X[c].iloc[i] for c in actionable}
        for size in (1, 2, 3):
            for combo in combinations(actionable, size):
                # every change of these inputs, its cost, then all of them scored at once
                changes, costs = [], []
                for values in itertools.product(*[grids[c].fine for c in combo]):
                    cost = 0.0
                    for c, v in zip(combo, values, strict=True):
                        old = now[c]
                        if v == old or (directions[c] == "down" and v > old) or \
                                (directions[c] == "up" and v < old):
                            cost = np.nan
                            break
                        cost += abs(_rank(column[c], v) - _rank(column[c], old))
                    if not np.isnan(cost):
                        changes.append(values)
                        costs.append(cost)
                if not changes:
                    continue
                rows = X.iloc[[i] * len(changes)].reset_index(drop=True)
                for j, c in enumerate(combo):
                    rows[c] = [values[j] for values in changes]
                for cost in np.asarray(costs)[points(rows) >= cutoff]:
                    if best is None or (size, cost) < best:
                        best = (size, cost)
            if best is not None:
                break
        if best is None:
            assert cf.status[i] != "found", i
            if cf.status[i] == "none":  # proven: every actionable input at its best
                assert cf.bound[i] < cutoff
                at_best = X.iloc[[i]].copy()
                for c in actionable:  # the best value each may move to, by brute force
                    allowed = [v for v in population[c].unique()
                               if directions[c] is None or v == X[c].iloc[i]
                               or (v < X[c].iloc[i]) == (directions[c] == "down")]
                    at_best[c] = min(allowed, key=lambda v, c=c: additive.terms(
                        at_best.assign(**{c: v}))[0, columns.index(c)])
                assert points(at_best)[0] == pytest.approx(cf.bound[i], abs=1e-9)
        else:
            assert cf.status[i] == "found", i
            size = int((cf.columns[i] != None).sum())
            assert (size, cf.cost[i]) == pytest.approx(best), i
            assert cf.new_score[i] >= cutoff


def _rank(values: pd.Series, v: float) -> float:
    ref = np.sort(values.to_numpy(dtype=float))
    return (np.searchsorted(ref, v, "left") + np.searchsorted(ref, v, "right")) / (2 * ref.size)


def test_ranking_is_by_gap_and_skips_barred_and_favourable_inputs():
    gap = np.array([[0.5, 2.0, 1.0, 0.2, -0.1], [0.5, 2.0, 1.0, 0.2, 3.0]])
    shap = np.array([[0.1, 0.3, -0.2, 0.1, 0.4], [0.1, 0.3, 0.2, 0.1, 0.4]])
    ranked = rank_reasons(gap, shap, np.array([True, False]),
                          np.array([False, True, False, False, False]), k=4)
    # row 0: column 1 barred (flagged), column 2 favourable (shap < 0), column 4 gap < 0
    assert ranked.index[0].tolist() == [0, 3, -1, -1]
    assert ranked.barred_top[0].tolist() == [False, True, False, False, False]
    assert ranked.index[1].tolist() == [-1, -1, -1, -1]  # approved: none


# --------------------------------------------------------------------------- truth, words


def test_true_terms_reproduce_the_generator_and_refuse_another_truth(study):
    config = config_from_dict({"population": {"n_citizens": 2000}, "seed": 1})
    population = generate_population(config.population, config.seed)
    terms = true_terms(population.frame, config.population)
    numeric = [c for c in population.features
               if pd.api.types.is_numeric_dtype(population.frame[c])]
    assert list(terms.columns) == ["latent_reliability", *numeric, "age"]
    assert terms_reproduce_truth(population.frame, terms)
    # the inputs name most of the latent term: what is left has a smaller spread
    latent = -config.population.risk_signal * population.frame["latent_reliability"]
    assert terms["latent_reliability"].std() < 0.6 * latent.std()
    assert terms["bill_payment_regularity"].std() > 0.2  # an indicator of reliability
    planted = study[0].population.frame
    assert not terms_reproduce_truth(planted, true_terms(planted, config.population))


def test_fidelity_is_not_claimed_for_a_truth_the_terms_do_not_explain(adverse):
    for model in EXACT:
        assert adverse.summary["models"][model]["fidelity"]["fidelity"] is None


def test_jaccard_of_reason_lists():
    a = pd.DataFrame({"x": [True, True, False], "y": [True, False, False]}, index=[1, 2, 3])
    b = pd.DataFrame({"x": [True, False, False], "z": [False, True, False]}, index=[1, 2, 3])
    # citizen 1: {x,y} vs {x} = 1/2; citizen 2: {x} vs {z} = 0; citizen 3: both empty
    assert jaccard(a, b) == {"jaccard": 0.25, "n": 2}


def test_bootstrap_refits_of_fixed_rules_agree_fully(adverse):
    boot = adverse.summary["models"]["expert_debt"]["bootstrap"]
    assert boot["refits"] == 1 and boot["jaccard"] == pytest.approx(1.0)
    assert 0 < adverse.summary["models"]["lightgbm"]["bootstrap"]["jaccard"] <= 1


def test_the_german_catalogue_words_every_coded_value():
    table = pd.read_csv(ROOT / "data" / "real" / "german_credit.csv")
    cfg = config_from_dict({}).explain.reasons.model_copy(update={"catalogue":
                                                                   "german_credit"})
    columns = [c for c in table.columns if c not in ("applicant_id", "credit_risk",
                                                     "personal_status_sex")]
    catalogue = catalogue_for(cfg, columns, synthetic=False)
    assert not [c for c, e in catalogue.items() if e.code.startswith("X-")]
    for col in columns:
        if table[col].dtype == object:
            for value in table[col].unique():
                assert value in catalogue[col].labels, (col, value)
    assert value_in_words(catalogue["checking_status"], "below_0") == "overdrawn (below 0 DM)"
    assert value_in_words(catalogue["duration_months"], 24) == "24 months"


def test_additive_terms_rank_points_below_the_best_attainable(study):
    result = study[0]
    model = result.fits.fold_models["expert_debt"][(0, 0)]
    X = result.population.frame[result.models[2].columns]
    terms = additive_terms(model, X)
    j = list(X.columns).index("debt_to_income")
    slope = model.calibrator_slope_
    assert np.allclose(terms[:, j], slope * -1500.0 * X["debt_to_income"].to_numpy())
    assert terms[:, j].min() == pytest.approx(slope * -1500 * X["debt_to_income"].min())
