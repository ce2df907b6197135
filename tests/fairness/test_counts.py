"""The group-count kernel: equal to fairlearn's metrics, mergeable across chunks exactly."""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import roc_auc_score

from scorelab.fairness.counts import (
    auc_binning_bound,
    bootstrap_weights,
    count_groups,
    group_rates,
    score_edges,
)


def _toy(n: int = 1500, seed: int = 0, distinct: int | None = 200):
    rng = np.random.default_rng(seed)
    ids = rng.permutation(10 * n)[:n]  # citizen ids need not be positions
    groups = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    y_obs = (rng.random(n) < 0.15 + 0.05 * groups).astype(int)
    y_true = np.where(rng.random(n) < 0.9, y_obs, 1 - y_obs)
    p = np.clip(0.1 + 0.3 * y_obs + rng.normal(0, 0.15, n), 0.001, 0.999)
    if distinct is not None:  # few distinct values: the binned AUC is exact
        p = np.clip(np.round(p * distinct) / distinct, 0.5 / distinct, 1 - 0.5 / distinct)
    points = 600 - 120 * np.log(p / (1 - p))
    approved = p < 0.3
    return ids, groups, y_obs, y_true, p, points, approved


#: The fixed-point sums move a group mean by at most half a unit (module docstring).
_ATOL = {"mean_p": 2.0 ** -25, "mean_score": 2.0 ** -9}


def _fairlearn(y, approved, p, points, groups, weights=None):
    """Per-group metrics from fairlearn (and sklearn's AUC) on the expanded sample."""
    if weights is not None:
        take = np.repeat(np.arange(y.size), weights)
        y, approved, p, points, groups = y[take], approved[take], p[take], points[take], \
            groups[take]
    rejected = (~approved).astype(int)
    frame = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate,
                                 "fnr": false_negative_rate},
                        y_true=y, y_pred=rejected, sensitive_features=groups)
    approval = MetricFrame(metrics=selection_rate, y_true=y, y_pred=approved.astype(int),
                           sensitive_features=groups).by_group
    auc = MetricFrame(metrics=roc_auc_score, y_true=y, y_pred=p, sensitive_features=groups)
    mean = MetricFrame(metrics=lambda a, b: float(np.mean(b)), y_true=y, y_pred=p,
                       sensitive_features=groups).by_group
    score = MetricFrame(metrics=lambda a, b: float(np.mean(b)), y_true=y, y_pred=points,
                        sensitive_features=groups).by_group
    rate = MetricFrame(metrics=lambda a, b: float(np.mean(a)), y_true=y, y_pred=p,
                       sensitive_features=groups).by_group
    return {"approval_rate": approval.to_numpy(), **{k: frame.by_group[k].to_numpy()
                                                      for k in ("tpr", "fpr", "fnr")},
            "auc": auc.by_group.to_numpy(), "mean_p": mean.to_numpy(),
            "default_rate": rate.to_numpy(), "mean_score": score.to_numpy()}


@pytest.fixture(scope="module")
def counted():
    ids, groups, y_obs, y_true, p, points, approved = _toy()
    weights = bootstrap_weights(ids, 30, seed=7)
    counts = count_groups(groups, 4, [y_obs, y_true], approved, p, points, weights,
                          score_edges(p))
    return (ids, groups, y_obs, y_true, p, points, approved), weights, counts


@pytest.mark.parametrize("outcome", [0, 1])
def test_point_estimates_equal_fairlearn(counted, outcome):
    (ids, groups, y_obs, y_true, p, points, approved), _, counts = counted
    y = (y_obs, y_true)[outcome]
    ours = group_rates(counts, outcome)
    ref = _fairlearn(y, approved, p, points, groups)
    for metric, values in ref.items():
        np.testing.assert_allclose(ours[metric][0], values, rtol=0,
                                   atol=_ATOL.get(metric, 1e-12), err_msg=metric)
    np.testing.assert_allclose(ours["calibration_gap"][0], ref["mean_p"] - ref["default_rate"],
                               rtol=0, atol=_ATOL["mean_p"])


@pytest.mark.parametrize("replicate", [1, 17, 30])
def test_every_bootstrap_replicate_equals_fairlearn_on_the_resample(counted, replicate):
    """A replicate is the metric of the resample that repeats each citizen by its weight."""
    (ids, groups, y_obs, _, p, points, approved), weights, counts = counted
    ours = group_rates(counts, 0)
    ref = _fairlearn(y_obs, approved, p, points, groups, weights[:, replicate])
    for metric, values in ref.items():
        np.testing.assert_allclose(ours[metric][replicate], values, rtol=0,
                                   atol=_ATOL.get(metric, 1e-12), err_msg=metric)


def test_merging_chunks_equals_one_pass_exactly(counted):
    (ids, groups, y_obs, y_true, p, points, approved), weights, whole = counted
    order = np.random.default_rng(3).permutation(ids.size)  # chunks in any order
    edges = score_edges(p)
    merged = None
    for part in np.split(order, [1, 400, 1100]):  # uneven, one of a single citizen
        w = bootstrap_weights(ids[part], 30, seed=7)  # drawn where the chunk lives
        c = count_groups(groups[part], 4, [y_obs[part], y_true[part]], approved[part],
                         p[part], points[part], w, edges)
        merged = c if merged is None else merged + c
    assert np.array_equal(merged.totals, whole.totals)
    for metric, values in group_rates(whole, 1).items():
        assert np.array_equal(group_rates(merged, 1)[metric], values, equal_nan=True)


def test_merge_refuses_counts_of_other_bins(counted):
    (ids, groups, y_obs, y_true, p, points, approved), weights, whole = counted
    other = count_groups(groups, 4, [y_obs, y_true], approved, p, points, weights,
                         score_edges(p, max_bins=20))
    with pytest.raises(ValueError, match="same groups"):
        _ = whole + other


def test_several_attributes_in_one_pass_equal_one_at_a_time(counted):
    (ids, groups, y_obs, y_true, p, points, approved), weights, _ = counted
    other = (ids % 3).astype(int)  # a second attribute, codes offset past the first's
    edges = score_edges(p)
    both = count_groups(np.column_stack([groups, 4 + other]), 7, [y_obs], approved, p,
                        points, weights, edges)
    first = count_groups(groups, 4, [y_obs], approved, p, points, weights, edges)
    second = count_groups(other, 3, [y_obs], approved, p, points, weights, edges)
    for metric in ("approval_rate", "tpr", "auc", "mean_score"):
        joint = group_rates(both)[metric]
        assert np.array_equal(joint[:, :4], group_rates(first)[metric], equal_nan=True)
        assert np.array_equal(joint[:, 4:], group_rates(second)[metric], equal_nan=True)


def test_bootstrap_weights_are_poisson_and_keyed_by_citizen():
    ids = np.arange(5000) * 7 + 3
    w = bootstrap_weights(ids, 200, seed=1)
    assert (w[:, 0] == 1).all()
    assert w[:, 1:].mean() == pytest.approx(1.0, abs=0.01)
    assert w[:, 1:].var() == pytest.approx(1.0, abs=0.02)
    assert np.mean(w[:, 1:] == 0) == pytest.approx(np.exp(-1), abs=0.005)
    rev = bootstrap_weights(ids[::-1], 200, seed=1)[::-1]
    assert np.array_equal(w, rev)  # a citizen's weights do not depend on its position
    assert not np.array_equal(w, bootstrap_weights(ids, 200, seed=2))
    # replicates are not the same draw shifted: columns are nearly uncorrelated
    corr = np.corrcoef(w[:, 1:].T.astype(float))
    assert np.abs(corr[np.triu_indices(200, 1)]).max() < 0.1


def test_binned_auc_within_its_stated_bound_of_the_exact_auc():
    ids, groups, y_obs, y_true, p, points, approved = _toy(n=3000, distinct=None)
    assert np.unique(p).size > 2000
    counts = count_groups(groups, 4, [y_obs], approved, p, points,
                          bootstrap_weights(ids, 0, 0), score_edges(p, max_bins=64))
    bound = auc_binning_bound(counts)
    ours = group_rates(counts)["auc"][0]
    for g in range(4):
        m = groups == g
        exact = roc_auc_score(y_obs[m], p[m])
        assert abs(ours[g] - exact) <= bound[g] + 1e-12
    assert bound.max() < 0.05  # 64 bins: a few per cent of pairs at most share a bin


def test_groups_without_a_class_give_nan_not_zero():
    y = np.array([0, 0, 0, 1, 1, 0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.2])
    counts = count_groups(groups, 3, [y], p < 0.5, p, p, bootstrap_weights(np.arange(6), 0, 0),
                          score_edges(p))
    rates = group_rates(counts)
    assert np.isnan(rates["tpr"][0, 0]) and np.isnan(rates["auc"][0, 0])
    assert rates["fpr"][0, 0] == 0.0 and rates["auc"][0, 1] == 1.0
    assert np.isnan(rates["approval_rate"][0, 2])  # an empty group

