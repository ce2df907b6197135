"""The fold engine: it shares the hybrids' cross-fitting (nothing fitted twice, no number
changed: Yim & Mitchell's first stage is the stacking's logit base; the stacking's
refits on all rows are the study's own scorecard, LightGBM and MLP fold models), and
scores each fold model's training rows beside its fit."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone

from scorelab.data.synthetic import SCHEMA
from scorelab.engine import FitSample, local, training_sample, trains_on_every_row
from scorelab.study.plan import Plan
from scorelab.models.hybrid import CrossFit, StackingHybrid, YimMitchellHybrid
from scorelab.engine import Fold, fit_final, fit_folds, make_folds
from tests.conftest import make_config

NET = {"hidden_layer_sizes": [8], "max_iter": 30}  # tiny nets: they stop at max_iter
pytestmark = [pytest.mark.heavy,  # runs studies: not in `make check`
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]
# every model on the same eight inputs (numbers, categories, missing values): the
# scorecard's binning, fitted again and again here, costs by the input
INPUTS = ["education", "sector", "income", "debt_to_income", "late_payments",
          "utilisation", "employment_years", "bill_payment_regularity"]
DROPPED = [c for c in SCHEMA.with_role("feature") if c not in INPUTS]
MODELS = [{**spec, "drop_features": DROPPED} for spec in [
    {"family": "logit", "name": "scorecard"},
    {"family": "trees", "name": "lightgbm", "kind": "lightgbm", "params": {"n_estimators": 30}},
    {"family": "neural", "name": "mlp", "kind": "mlp", "params": NET},
    {"family": "hybrid", "name": "yim", "kind": "yim_mitchell",
     "params": {"inner_folds": 3, **NET}},
    {"family": "hybrid", "name": "stack", "kind": "stacking",
     "params": {"inner_folds": 3, "estimators": [
         {"name": "logit", "family": "logit"},
         {"name": "gbm", "family": "trees", "kind": "lightgbm",
          "params": {"n_estimators": 30}},
         {"name": "net", "family": "neural", "kind": "mlp", "params": NET}]}},
]]


@pytest.fixture(scope="module")
def study():
    from scorelab.study.population import population_for

    config = make_config({"models": MODELS}, n=700)
    pop, _ = population_for(config)
    y = pop.frame["defaulted"].to_numpy().astype(np.int64)
    models, _ = Plan.of(config).prepare(pop.schema)
    return models, pop.frame, y, make_folds(y, 3, 1, config.seed)


@pytest.fixture(scope="module")
def fits(study):
    """The engine on one fold, with its progress calls recorded."""
    models, frame, y, folds = study
    seen = []
    out = fit_folds(models, frame, y, folds[:1], n_jobs=2,
                    progress=lambda d, t: seen.append((d, t)), train_scores=True)
    return out, seen


def _alone(model, frame, y, fold):
    """The hybrid fitted by itself on the fold, computing every part of its own."""
    return clone(model.estimator).fit(frame[model.columns].iloc[fold.train], y[fold.train])


def test_shared_cross_fits_change_no_number(study, fits) -> None:
    models, frame, y, folds = study
    fits = fits[0]
    fold = folds[0]
    for name in ("yim", "stack"):
        model = next(m for m in models if m.name == name)
        alone = _alone(model, frame, y, fold)
        shared = fits.fold_models[name][(fold.repeat, fold.fold)]
        X_test = frame[model.columns].iloc[fold.test]
        assert np.array_equal(shared.oof_log_odds_, alone.oof_log_odds_), name
        assert np.array_equal(shared.predict_proba(X_test), alone.predict_proba(X_test))
        assert np.array_equal(fits.oof[name][0, fold.test], alone.predict_proba(X_test)[:, 1])


def test_each_part_is_fitted_once(study, monkeypatch) -> None:
    models, frame, y, folds = study
    plan = local._cross_fit_plan([m for m in models if local._cross_fitting(m)],
                                    [m for m in models if not local._cross_fitting(m)],
                                    y, folds)
    asked = Counter((t.key, t.fold.fold, t.k) for t in plan.tasks)
    assert set(asked.values()) == {1}  # no part twice
    # yim's first stage = the stacking's logit base: 3 inner fits per fold, shared; the
    # refits on all rows are the study's own scorecard, LightGBM and MLP fold models
    assert len(plan.tasks) == len(folds) * (3 + 3 + 3)
    assert sorted(set(plan.refits.values())) == ["lightgbm", "mlp", "scorecard"]


def test_the_family_fold_model_is_the_stacking_base(study, fits) -> None:
    models, frame, _, folds = study
    fits = fits[0]
    key = (folds[0].repeat, folds[0].fold)
    stack = fits.fold_models["stack"][key]
    X = frame[models[0].columns]
    assert np.array_equal(stack.estimators_[1].predict_proba(X),
                          fits.fold_models["lightgbm"][key].predict_proba(X))
    yim = fits.fold_models["yim"][key]
    assert np.array_equal(yim.oof_log_odds_, stack.oof_log_odds_[:, 0])


def test_final_fits_share_too_and_equal_the_fits_alone(study) -> None:
    models, frame, y, _ = study
    finals = fit_final(models, frame, y, n_jobs=2)
    everyone = Fold(-1, -1, np.arange(y.size), np.arange(0))
    model = next(m for m in models if m.name == "stack")
    alone = _alone(model, frame, y, everyone)
    X = frame[model.columns]
    assert np.array_equal(finals["stack"].predict_proba(X), alone.predict_proba(X))
    assert np.array_equal(finals["yim"].oof_log_odds_, finals["stack"].oof_log_odds_[:, 0])


def test_progress_counts_every_task_once(study, fits) -> None:
    models = study[0]
    seen = fits[1]
    total = seen[-1][1]
    assert [d for d, _ in seen] == list(range(1, total + 1))
    assert total == len(models) + 3 + 3 + 3  # models and parts on one fold


def test_a_given_cross_fit_of_other_rows_is_refused(study) -> None:
    models, frame, y, _ = study
    hybrid = YimMitchellHybrid(inner_folds=3, **NET)
    X = frame[models[0].columns].iloc[:300]
    wrong = CrossFit(np.zeros(10), np.zeros(10, dtype=np.int64), None)
    key = hybrid.cross_fit_key(0, list(X.columns))
    with pytest.raises(ValueError, match="10 rows"):
        hybrid.fit(X, y[:300], cross_fits={key: wrong})


def test_unseeded_inner_folds_are_never_shared() -> None:
    assert StackingHybrid(random_state=None).cross_fit_key(0, ["a"]) is None
    a = StackingHybrid(inner_folds=3).cross_fit_key(0, ["a"])
    assert a != StackingHybrid(inner_folds=4).cross_fit_key(0, ["a"])
    assert a != StackingHybrid(inner_folds=3).cross_fit_key(0, ["b"])
    assert a == YimMitchellHybrid(inner_folds=3).cross_fit_key(0, ["a"])


def test_training_rows_are_scored_beside_the_fit(study, fits) -> None:
    models, frame, _, folds = study
    fits, fold = fits[0], folds[0]
    key = (fold.repeat, fold.fold)
    for model in models:
        X_train = frame[model.columns].iloc[fold.train]
        expected = fits.fold_models[model.name][key].predict_proba(X_train)[:, 1]
        assert np.array_equal(fits.train_p[model.name][key], expected), model.name
    # the practice stage takes them, and computes the same where they are missing
    from scorelab.evaluate.practice import training_points
    from scorelab.core.scale import scale_from_config
    from tests.conftest import make_config as config

    scale = scale_from_config(config(n=100).scale)
    given = training_points(models, fits, frame, folds[:1], scale)
    computed = training_points(models, dataclasses.replace(fits, train_p={}), frame,
                               folds[:1], scale)
    for model in models:
        assert np.array_equal(given[model.name][key], computed[model.name][key])


def test_estimator_identity_spells_everything_or_refuses() -> None:
    from sklearn.linear_model import LogisticRegression

    from scorelab.models.base import estimator_identity

    a = LogisticRegression(class_weight={0: 1.0, 1: 2.0})
    assert estimator_identity(a) == estimator_identity(clone(a))
    assert estimator_identity(a) != estimator_identity(
        LogisticRegression(class_weight={0: 1.0, 1: 3.0}))
    # arrays by their bytes (repr would print '...' past 1,000 elements)
    big = np.zeros(2_000)
    changed = big.copy()
    changed[1_000] = 1.0
    with_big = YimMitchellHybrid(first_stage=LogisticRegression()).set_params(
        hidden_layer_sizes=big)
    assert estimator_identity(with_big) != estimator_identity(
        clone(with_big).set_params(hidden_layer_sizes=changed))
    # a RandomState's state cannot be spelled: never shared
    seeded_by_state = LogisticRegression(random_state=np.random.RandomState(0))
    assert estimator_identity(seeded_by_state) is None
    assert StackingHybrid(estimators=[("lr", seeded_by_state)]).cross_fit_key(0, ["a"]) is None


def test_a_scorecards_points_scale_and_seed_change_no_log_odds(study) -> None:
    """Why the scorecard's identity leaves them out (``log_odds_neutral``)."""
    from scorelab.models.base import estimator_identity
    from scorelab.models.logit import LogitScorecard

    models, frame, y, _ = study
    X = frame[models[0].columns].iloc[:400]
    plain = LogitScorecard().fit(X, y[:400])
    scaled = LogitScorecard(pdo=20, odds=50.0, base_points=300, random_state=3).fit(X, y[:400])
    assert np.array_equal(plain.decision_function(X), scaled.decision_function(X))
    assert not np.array_equal(plain.points(X), scaled.points(X))
    assert estimator_identity(plain) == estimator_identity(scaled)
    assert estimator_identity(LogitScorecard(C=0.5)) != estimator_identity(plain)


# ------------------------------------------------------------ compute.sample_size


@pytest.fixture(scope="module")
def sampled(study):
    """The engine on one fold with a sample of 300 of its 466 training citizens."""
    models, frame, y, folds = study
    sample = FitSample(300, 11)
    return sample, fit_folds(models, frame, y, folds[:1], n_jobs=2, train_scores=True,
                             sample=sample)


def test_sampled_families_fit_on_the_seeded_sample_and_trees_on_every_row(study, sampled
                                                                          ) -> None:
    models, frame, y, folds = study
    sample, fits = sampled
    fold = folds[0]
    rows = training_sample(fold.train, 300, 11, fold.repeat, fold.fold)
    assert rows.size == 300 and np.isin(rows, fold.train).all()
    assert np.array_equal(rows, training_sample(fold.train, 300, 11, 0, 0))
    for model in models:  # every model, hybrids too, as if fitted alone on its rows
        expected = fold.train if trains_on_every_row(model.estimator) else rows
        assert np.array_equal(sample.rows(model.estimator, fold), expected)
        alone = clone(model.estimator).fit(frame[model.columns].iloc[expected], y[expected])
        X_test = frame[model.columns].iloc[fold.test]
        assert np.array_equal(fits.oof[model.name][0, fold.test],
                              alone.predict_proba(X_test)[:, 1]), model.name
    assert {m.name for m in models if trains_on_every_row(m.estimator)} == {
        "lightgbm"}


def test_a_base_refit_is_shared_only_with_a_family_fitted_on_the_same_rows(study) -> None:
    models, _, y, folds = study
    hybrids = [m for m in models if local._cross_fitting(m)]
    families = [m for m in models if not local._cross_fitting(m)]
    plan = local._cross_fit_plan(hybrids, families, y, folds[:1],
                                    FitSample(300, 11))
    shared = set(plan.refits.values())
    assert shared == {"scorecard", "mlp"}  # lightgbm trained on all rows, the bases on 300
    refit_tasks = [t for t in plan.tasks if t.k == -1]
    assert len(refit_tasks) == 1 and refit_tasks[0].fold.train.size == 300


def test_sampled_models_score_every_training_row(study, sampled) -> None:
    models, frame, y, folds = study
    _, fits = sampled
    fold = folds[0]
    for model in models:
        fitted = fits.fold_models[model.name][(0, 0)]
        assert np.array_equal(fits.train_p[model.name][(0, 0)], fitted.predict_proba(
            frame[model.columns].iloc[fold.train])[:, 1]), model.name


def test_no_sample_below_the_sample_size(study, fits) -> None:
    models, frame, y, folds = study
    larger = fit_folds(models, frame, y, folds[:1], n_jobs=2,
                       sample=FitSample(folds[0].train.size, 11))
    for model in models:
        assert np.array_equal(larger.oof[model.name], fits[0].oof[model.name],
                              equal_nan=True), model.name


def test_final_fits_sample_every_citizen_with_the_final_generator(study) -> None:
    models, frame, y, _ = study
    scorecard = [m for m in models if m.name == "scorecard"]
    final = fit_final(scorecard, frame, y, sample=FitSample(400, 11))["scorecard"]
    rows = training_sample(np.arange(y.size), 400, 11, -1, -1)
    alone = clone(scorecard[0].estimator).fit(frame[scorecard[0].columns].iloc[rows], y[rows])
    X = frame[scorecard[0].columns]
    assert np.array_equal(final.predict_proba(X), alone.predict_proba(X))
