"""Nested tuning: the outer test fold never informs the choice, every tunable
family gets the same budget, and the same seed gives the same choices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from scorelab.data import generate_population
from scorelab.exceptions import ConfigError
from scorelab.models.tuning import score_rows
from scorelab.engine import fit_folds, make_folds
from scorelab.study.plan import Plan
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

BUDGET = 3
# small spaces so that a search over a few hundred citizens costs seconds
SMALL = {
    "lightgbm": {"n_estimators": {"low": 20, "high": 60}, "num_leaves": {"low": 3, "high": 7}},
    "forest": {"n_estimators": {"low": 5, "high": 20}, "num_leaves": {"low": 7, "high": 31}},
}
FOREST = {"calibrate": False}  # Platt scaling costs three more fits per fit
MODELS = [
    {"family": "trees", "name": "lightgbm", "search_space": SMALL["lightgbm"]},
    {"family": "trees", "name": "forest", "kind": "forest", "params": FOREST,
     "search_space": SMALL["forest"]},
    {"family": "expert", "name": "suining"},
    {"family": "hybrid", "name": "hces", "kind": "hces_bag", "params": {
        "estimators": ["trees/lightgbm", {"family": "trees", "kind": "forest", "params": FOREST}],
        "spaces": {"trees_lightgbm": SMALL["lightgbm"], "trees_forest": SMALL["forest"]}}},
]


def _config(seed: int = 3, **tuning):
    return make_config({"models": MODELS, "evaluation": {
        "folds": 3, "tuning": {"budget": BUDGET, "inner_folds": 2, **tuning}}},
        n=600, seed=seed)


@pytest.fixture(scope="module")
def study():
    config = _config()
    pop = generate_population(config.population, config.seed)
    y = pop.frame["defaulted"].to_numpy()
    models, _ = Plan.of(config).prepare(pop.schema)
    folds = make_folds(y, 3, 1, config.seed)
    return models, pop.frame, y, folds, fit_folds(models, pop.frame, y, folds, n_jobs=2)


def _trials(found):
    return [(t.params, t.score) for t in found.trials]


def test_every_tunable_family_gets_the_same_number_of_configurations(study) -> None:
    models, _, _, folds, fits = study
    tuned = {m.name for m in models if m.tuning is not None}
    assert tuned == {"lightgbm", "forest"}  # the expert rules have no search space
    for name in tuned:
        assert set(fits.searches[name]) == {(f.repeat, f.fold) for f in folds}
        for found in fits.searches[name].values():
            assert len(found.trials) == BUDGET
    assert "suining" not in fits.searches
    for ensemble in fits.fold_models["hces"].values():  # its candidates: the same budget
        assert [s["n_trials"] for s in ensemble.searches_.values()] == [BUDGET, BUDGET]


def test_the_fold_model_is_fitted_with_the_chosen_parameters(study) -> None:
    _, _, _, _, fits = study
    for key, found in fits.searches["lightgbm"].items():
        params = fits.fold_models["lightgbm"][key].get_params()
        assert {k: params[k] for k in found.best_params} == found.best_params
        scores = [t.score for t in found.trials]
        assert found.best_score == max(scores)  # auc: greater is better


def test_nested_tuning_never_sees_the_outer_test_fold(study) -> None:
    models, frame, y, folds, fits = study
    lgbm = [m for m in models if m.name == "lightgbm"]
    perturbed = y.copy()
    perturbed[folds[0].test] = 1 - perturbed[folds[0].test]  # only fold 0's test labels
    again = fit_folds(lgbm, frame, perturbed, folds[:2], n_jobs=2).searches["lightgbm"]
    assert _trials(again[(0, 0)]) == _trials(fits.searches["lightgbm"][(0, 0)])
    # the perturbation is real: fold 1 trains on fold 0's citizens, so its search moves
    assert _trials(again[(0, 1)]) != _trials(fits.searches["lightgbm"][(0, 1)])


def test_the_same_seed_gives_the_same_choices(study) -> None:
    models, frame, y, folds, fits = study
    again = fit_folds(models[:2], frame, y, folds[:1], n_jobs=2)
    for name in ("lightgbm", "forest"):
        assert _trials(again.searches[name][(0, 0)]) == \
            _trials(fits.searches[name][(0, 0)])


def test_score_rows_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    z = np.round(rng.normal(size=(4, 300)) + y, 1)  # rounded: ties, handled as sklearn does
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(score_rows(z, y, "auc"),
                               [roc_auc_score(y, row) for row in z], atol=1e-12)
    np.testing.assert_allclose(score_rows(z, y, "brier"),
                               [brier_score_loss(y, row) for row in p], atol=1e-12)
    t = 1 / 6  # German credit's 5:1 matrix: an approved defaulter costs 5
    cost = [np.mean(np.where(y == 1, 5.0 * (row <= t), 1.0 * (row > t))) for row in p]
    np.testing.assert_allclose(score_rows(z, y, "expected_cost", t), cost, atol=1e-12)


def test_a_search_space_needs_tuning_and_a_searched_parameter() -> None:
    no_tuning = make_config({"models": [MODELS[0]]}, n=300)
    with pytest.raises(ConfigError, match="search_space is given but evaluation.tuning is "
                                          "not set"):
        Plan.of(no_tuning)
    typo = _config().with_({"models.0.search_space": {"num_leavs": {"low": 3, "high": 7}}})
    with pytest.raises(ConfigError, match=r"search_space.num_leavs: not a searched parameter "
                                          r"of LightGBMFamily \(searched: n_estimators"):
        Plan.of(typo)
    bad = _config().with_({"models.0.search_space": {"subsample": {"low": 0.5, "high": 1.5}}})
    with pytest.raises(ConfigError, match=r"search_space.subsample: 1.5 is not a valid value"):
        Plan.of(bad)


# --------------------------------------------------------------------------- ensemble


def test_ensemble_selection_is_never_much_worse_than_its_best_member(study) -> None:
    _, _, y, _, fits = study
    auc = {name: roc_auc_score(y, fits.oof[name][0]) for name in ("lightgbm", "forest", "hces")}
    assert auc["hces"] >= max(auc["lightgbm"], auc["forest"]) - 0.002, auc


def test_ensemble_members_and_weights(study) -> None:
    _, frame, _, folds, fits = study
    model = fits.fold_models["hces"][(0, 0)]
    assert model.weights_.sum() == pytest.approx(1.0)
    assert [m["weight"] for m in model.members_] == pytest.approx(list(model.weights_))
    rows = frame[model.columns_].iloc[folds[0].test[:50]]
    z = np.column_stack([est.decision_function(rows) for est in model.estimators_])
    a, b = model.calibration_
    np.testing.assert_allclose(model.decision_function(rows), a + b * (z @ model.weights_))
    assert model.inner_score_ >= model.best_inner_score_ - 0.01  # on its own inner folds


def test_ensemble_shap_is_the_weighted_sum_of_its_members(study) -> None:
    from scorelab.explain import explain

    _, frame, _, folds, fits = study
    model = fits.fold_models["hces"][(0, 0)]
    rows = frame[model.columns_].iloc[folds[0].test[:40]]
    background = frame[model.columns_].iloc[folds[0].train[:50]]
    ens = explain(model, rows, background)
    assert ens.method.startswith("ensemble (")
    assert ens.additivity_error() < 1e-9  # base + sum of values = the ensemble's log-odds
    members = [explain(est, rows, background) for est in model.estimators_]
    b = model.calibration_[1]
    np.testing.assert_allclose(ens.values, b * sum(w * m.values for w, m in
                                                   zip(model.weights_, members, strict=True)))


def test_hill_climbing_keeps_a_dominant_entry_alone() -> None:
    from scorelab.models.ensemble import hill_climb

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    perfect = np.where(y == 1, 2.0, -2.0)
    library = np.vstack([perfect, rng.normal(size=400), rng.normal(size=400) + 0.3 * y])
    counts = hill_climb(library, y, "auc", max_steps=10)
    assert counts.tolist() == [1, 0, 0]  # nothing improves on a perfect ranking
    noisy = np.vstack([rng.normal(size=400) + y, rng.normal(size=400) + y])
    assert hill_climb(noisy, y, "auc", max_steps=10).sum() > 1  # two views beat one


@pytest.mark.slow
def test_ensemble_selection_at_full_size() -> None:
    """The must-hold on the default population (20,000 citizens, default candidates)."""
    config = make_config({"models": [
        {"family": "logit", "name": "scorecard"},
        {"family": "trees", "name": "lightgbm"},
        {"family": "trees", "name": "forest", "kind": "forest"},
        {"family": "neural", "name": "mlp"},
        {"family": "hybrid", "name": "hces", "kind": "hces_bag"}],
        "evaluation": {"folds": 3, "tuning": {"budget": 4, "inner_folds": 2}}})
    pop = generate_population(config.population, config.seed)
    y = pop.frame["defaulted"].to_numpy()
    models, _ = Plan.of(config).prepare(pop.schema)
    fits = fit_folds(models, pop.frame, y, make_folds(y, 3, 1, config.seed), n_jobs=2)
    auc = {name: roc_auc_score(y, oof[0]) for name, oof in fits.oof.items()}
    assert auc["hces"] >= max(v for k, v in auc.items() if k != "hces") - 0.002, auc


def test_expected_cost_rejects_above_the_cut_off_break_even() -> None:
    config = _config(metric="expected_cost")  # cut-off 600 = good:bad odds 4 on the scale
    assert Plan.of(config).threshold == pytest.approx(1 / 5)
    assert Plan.of(_config()).threshold is None  # auc needs no threshold


def test_fits_stopped_by_their_iteration_limit_are_recorded_not_announced() -> None:
    """An MLP trial whose inner fits stop at max_iter is scored as it is: each trial
    records how many of its inner fits did not converge, and no ConvergenceWarning per
    inner fit floods the caller (a tuned study would print hundreds)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from scorelab.models.neural import MLPFamily
    from scorelab.models.tuning import declared_space, search
    pop = generate_population(make_config(n=400).population, seed=3)
    X = pop.frame[pop.features]
    y = pop.frame["defaulted"].to_numpy()
    for limit, expect_stopped in ((2, True), (400, False)):
        mlp = MLPFamily(max_iter=limit, early_stopping=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)  # any that escapes fails
            found = search(mlp, declared_space(mlp), X, y, budget=2, inner_folds=2,
                           metric="auc", seed=0)
        stopped = [t.not_converged for t in found.trials]
        assert len(stopped) == 2
        assert all(s == 2 for s in stopped) if expect_stopped else sum(stopped) < 4
        assert [t["not_converged"] for t in found.record()["trials"]] == stopped


def test_the_ensemble_reuses_the_families_searches_of_its_fold(study) -> None:
    """In a tuned study the ensemble is seeded on each fold as the families' searches are,
    so a candidate equal to a tuned family (same estimator, space, budget, inner folds)
    takes that family's search of the fold instead of running it again; and reusing it
    changes no number: the ensemble fitted alone, searching everything itself, predicts
    bit for bit the same."""
    from sklearn.base import clone

    models, frame, y, folds, fits = study
    hces = next(m for m in models if m.name == "hces")
    for fold in folds:
        key = (fold.repeat, fold.fold)
        model = fits.fold_models["hces"][key]
        assert sorted(model.reused_searches_) == ["trees_forest", "trees_lightgbm"]
        for candidate, family in (("trees_lightgbm", "lightgbm"), ("trees_forest", "forest")):
            assert model.searches_[candidate] == fits.searches[family][key].record()
    fold = folds[1]
    shared = fits.fold_models["hces"][(fold.repeat, fold.fold)]
    alone = clone(shared).fit(frame[hces.columns].iloc[fold.train], y[fold.train])
    assert alone.reused_searches_ == []
    rows = frame[hces.columns].iloc[fold.test]
    np.testing.assert_array_equal(alone.predict_proba(rows), shared.predict_proba(rows))
    assert alone.members_ == shared.members_


def test_the_ensemble_reuses_the_scorecard_search_whatever_its_points_scale() -> None:
    """The study gives its scorecard the run's points scale and the ensemble seeds its
    candidate: neither changes a log-odds, so the candidate still takes the family's
    search of the fold (their identities leave both out)."""
    models_ = [{"family": "logit", "name": "scorecard"},
               {"family": "hybrid", "name": "hces", "kind": "hces_bag",
                "params": {"estimators": ["logit"]}}]
    config = make_config({"models": models_, "scale": {"pdo": 20, "base_score": 500},
                          "evaluation": {"folds": 2, "tuning": {"budget": 2,
                                                                "inner_folds": 2}}},
                         n=600, seed=3)
    pop = generate_population(config.population, config.seed)
    y = pop.frame["defaulted"].to_numpy()
    models, _ = Plan.of(config).prepare(pop.schema)
    assert models[0].estimator.get_params()["pdo"] == 20
    fold = make_folds(y, 2, 1, config.seed)[:1]
    fits = fit_folds(models, pop.frame, y, fold, n_jobs=1)
    assert fits.fold_models["hces"][(0, 0)].reused_searches_ == ["logit"]
