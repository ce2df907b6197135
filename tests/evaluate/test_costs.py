"""Costs and decisions: expected cost, its interval, the cost curve, and the
cost-minimising cut-off chosen on training folds only (never the test fold)."""

from __future__ import annotations

import numpy as np
import pytest

from scorelab.config import ModelSpec
from scorelab.evaluate.costs import (
    Costs,
    candidate_cutoffs,
    cost_curve,
    cost_interval,
    expected_cost,
    min_cost_cutoff,
)
from scorelab.evaluate.practice import fold_cost_cutoffs
from scorelab.engine import PreparedModel, fit_folds, make_folds
from scorelab.core.scale import scale_from_config
from tests.conftest import make_config

GERMAN = Costs(false_accept=5.0, false_reject=1.0)


def test_expected_cost_counts_each_wrong_decision_at_its_price() -> None:
    y = np.array([1, 1, 0, 0, 0])
    approved = np.array([True, False, True, False, False])
    # one approved defaulter (5) and two rejected good payers (1 each), over 5 applicants
    assert expected_cost(y, approved, GERMAN) == pytest.approx(7 / 5)
    assert GERMAN.break_even == pytest.approx(1 / 6)


def test_the_cost_curve_equals_deciding_at_each_cutoff() -> None:
    rng = np.random.default_rng(0)
    points = np.round(rng.normal(600, 50, 400))  # ties on purpose
    y = (rng.random(400) < 1 / (1 + np.exp((points - 560) / 30))).astype(int)
    grid = np.arange(450, 760, 10.0)
    curve = cost_curve(y, points, GERMAN, grid)
    brute = [expected_cost(y, points >= c, GERMAN) for c in grid]
    np.testing.assert_allclose(curve["expected_cost"], brute)
    np.testing.assert_allclose(curve["approval_rate"], [(points >= c).mean() for c in grid])
    best = min_cost_cutoff(y, points, GERMAN)
    costs = [expected_cost(y, points >= c, GERMAN) for c in candidate_cutoffs(points)]
    assert expected_cost(y, points >= best, GERMAN) == pytest.approx(min(costs))


def test_reject_all_and_approve_all_are_candidates() -> None:
    points = np.array([500.0, 600.0, 700.0])
    cuts = candidate_cutoffs(points)
    assert (points >= cuts[0]).all() and not (points >= cuts[-1]).any()
    # every defaulter: rejecting all costs nothing
    assert min_cost_cutoff(np.ones(3, int), points, GERMAN) > 700


def test_the_interval_is_seeded_and_holds_the_estimate() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.3).astype(int)
    approved = rng.random(2000) < 0.7
    low, high = cost_interval(y, approved, GERMAN, n_boot=200, seed=4)
    assert low < expected_cost(y, approved, GERMAN) < high
    assert (low, high) == cost_interval(y, approved, GERMAN, n_boot=200, seed=4)


def test_the_interval_is_the_citizen_bootstrap() -> None:
    """The multinomial shortcut has the distribution of resampling citizens."""
    rng = np.random.default_rng(6)
    y = (rng.random(1500) < 0.3).astype(int)
    approved = rng.random(1500) < 0.6
    per_citizen = np.where(approved & (y == 1), 5.0, 0.0) + np.where(~approved & (y == 0),
                                                                      1.0, 0.0)
    resampled = per_citizen[rng.integers(0, 1500, (4000, 1500))].mean(axis=1)
    want = np.quantile(resampled, [0.025, 0.975])
    got = cost_interval(y, approved, GERMAN, n_boot=4000, seed=1)
    np.testing.assert_allclose(got, want, atol=0.01)
    same_price = Costs(1.0, 1.0)
    low, high = cost_interval(y, approved, same_price, n_boot=500)
    assert low < expected_cost(y, approved, same_price) < high <= 1.0


@pytest.fixture(scope="module")
def fold_setup():
    from scorelab.data.synthetic import generate_population
    from scorelab.models.registry import build_model

    cfg = make_config(n=600, seed=11)
    pop = generate_population(cfg.population, 11)
    spec = ModelSpec(family="trees", name="lgbm", kind="lightgbm",
                     params={"n_estimators": 15, "num_leaves": 7})
    model = PreparedModel(spec, build_model(spec), pop.features)
    y = pop.frame["defaulted"].to_numpy().astype(np.int64)
    folds = make_folds(y, 3, 1, 11)
    return pop.frame, model, y, folds


def _cutoffs(setup, y):
    frame, model, _, folds = setup
    fits = fit_folds([model], frame, y, folds, n_jobs=1)
    return fold_cost_cutoffs([model], fits, frame, y, folds, scale_from_config(make_config().scale),
                             GERMAN)["lgbm"]


def test_the_cost_cutoff_never_sees_the_test_fold(fold_setup) -> None:
    """Must hold: relabel every citizen of fold 0's test part (refitting everything);
    fold 0's cut-off is unchanged, while relabelling its training part changes it."""
    _, _, y, folds = fold_setup
    base = _cutoffs(fold_setup, y)
    test0 = folds[0].test
    flipped = y.copy()
    flipped[test0] = 1 - flipped[test0]
    after = _cutoffs(fold_setup, flipped)
    assert after[(0, 0)] == base[(0, 0)]
    # the other folds train on fold 0's citizens, so their labels do reach them
    assert after[(0, 1)] != base[(0, 1)] or after[(0, 2)] != base[(0, 2)]
    train_flipped = y.copy()
    train0 = folds[0].train
    train_flipped[train0] = 1 - train_flipped[train0]
    assert _cutoffs(fold_setup, train_flipped)[(0, 0)] != base[(0, 0)]


def test_a_matched_share_is_exact_even_when_scores_tie() -> None:
    from scorelab.core.scale import approve_share

    points = np.repeat([500.0, 600.0, 700.0], 100)  # a points system: many ties
    approved, cutoff = approve_share(points, 0.5, seed=2)
    assert approved.sum() == 150 and cutoff == 600.0
    assert approved[points == 700].all() and not approved[points == 500].any()
    again, _ = approve_share(points, 0.5, seed=2)
    np.testing.assert_array_equal(approved, again)
