"""Properties of the search's parts that need no training: frontier, stopping bound,
tolerance test, shares approved and the group-threshold point."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from scorelab.evaluate.metrics import auc
from scorelab.lda.disparity import approve_share, group_approvals
from scorelab.lda.frontier import non_dominated, serves_need
from scorelab.lda.stopping import check_error, remaining_gain_bound
from scorelab.lda.thresholds import group_threshold_point


def test_frontier_has_no_dominated_candidate_and_dominates_the_rest() -> None:
    rng = np.random.default_rng(0)
    a, d = rng.normal(0.8, 0.01, 300), rng.uniform(0, 0.2, 300)
    a[:20] = a[20:40]  # ties in AUC must not hide a dominated candidate
    front = non_dominated(a, d)
    for i in np.flatnonzero(front):
        beaten = (a >= a[i]) & (d <= d[i]) & ((a > a[i]) | (d < d[i]))
        assert not beaten.any()
    for i in np.flatnonzero(~front):
        assert ((a[front] >= a[i]) & (d[front] <= d[i])).any()


def test_stopping_bound_shrinks_as_the_search_grows() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0.02, 0.1, 400)
    bounds = [remaining_gain_bound(values[:n], 0.1, 8, n // 8, 0.9)
              for n in range(8, 401, 8)]
    assert all(b2 <= b1 + 1e-12 for b1, b2 in itertools.pairwise(bounds))
    assert bounds[-1] < bounds[0] / 2


def test_stopping_bound_holds_on_a_known_distribution() -> None:
    """Monte Carlo: the expected gain of one more batch never exceeds the bound (at the
    stated confidence) when the draws are uniform on [0, 1]."""
    rng = np.random.default_rng(2)
    n, batch, misses = 40, 5, 0
    for _ in range(200):
        seen = rng.uniform(0, 1, n)
        best = seen.min()
        gain = best - (1 - (1 - best) ** (batch + 1)) / (batch + 1)
        misses += gain > remaining_gain_bound(seen, 1.0, batch, 1, 0.9)
    assert misses / 200 <= 0.1


def test_the_error_spent_over_all_checks_stays_within_the_confidence() -> None:
    assert sum(check_error(k, 0.9) for k in range(1, 100_000)) <= 0.1 + 1e-12
    assert math.isclose(check_error(1, 0.9), 0.6 / math.pi**2)


def test_a_candidate_serves_the_need_unless_significantly_worse() -> None:
    ok = serves_need(np.array([0.004, 0.02, 0.02, 0.0]), np.array([0.003, 0.003, 0.02, 0.0]),
                     0.005, 0.05)
    assert ok.tolist() == [True, False, True, True]


def test_every_candidate_approves_the_same_share() -> None:
    p = np.random.default_rng(3).uniform(size=(4, 1001))
    p[1] = 0.5  # all tied: still the exact count
    approved = approve_share(p, 0.7)
    assert approved.sum(axis=1).tolist() == [701] * 4
    assert (p[0][approved[0]].max() <= p[0][~approved[0]].min())


def test_group_thresholds_reach_the_target_disparity() -> None:
    rng = np.random.default_rng(4)
    young = rng.uniform(size=4000) < 0.3
    p = 1 / (1 + np.exp(-(rng.normal(-1.5, 1, 4000) + 0.5 * young)))
    y = (rng.uniform(size=4000) < p).astype(int)
    point = group_threshold_point(y, p, young, 0.7, 0.01)
    inside, outside = group_approvals(approve_share(p, 0.7), young)
    assert abs(1 - inside[0] / outside[0]) > 0.05
    assert point["disparity"] <= 0.01 + 0.005  # a grid of approvals: within a step
    assert point["shift_log_odds"] > 0
    assert point["auc"] < auc(y, p)  # the reference itself ranks by true risk here


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_extreme_rates_approve_nobody_or_everybody(rate: float) -> None:
    approved = approve_share(np.linspace(0, 1, 11), rate)
    assert approved.sum() == round(rate * 11)


def test_of_equally_discriminatory_candidates_the_most_accurate_is_chosen() -> None:
    import pandas as pd

    from scorelab.lda.frontier import choose

    table = pd.DataFrame({"candidate": ["a", "b", "c"], "auc": [0.70, 0.72, 0.71],
                          "auc_loss": [0.0, -0.02, -0.01], "auc_loss_se": [0.01] * 3,
                          "disparity": [0.02, 0.02, 0.05],
                          "reduction_low": [0.01, 0.03, -0.01],
                          "reduction_high": [0.09, 0.08, 0.05]})
    choice = choose(table, {"disparity": 0.07}, 0.005, 0.05)
    assert choice["chosen"] == "b" and choice["significant"]
    assert choice["reduction_interval"] == [0.03, 0.08]  # the table's own bounds
    assert non_dominated(table["auc"].to_numpy(), table["disparity"].to_numpy())[1]
