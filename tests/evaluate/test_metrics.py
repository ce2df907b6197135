"""Metrics against scikit-learn, brute force and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta as beta_dist
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from scorelab.evaluate import (
    approval_metrics,
    auc,
    bootstrap_intervals,
    brier,
    expected_calibration_error,
    gini,
    h_measure,
    ks,
    log_loss,
    metric_table,
    partial_gini,
)
from scorelab.evaluate import metrics as m


def _data(n: int, seed: int, signal: float = 1.2, decimals: int | None = 2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    p = 1.0 / (1.0 + np.exp(-(rng.normal(size=n) + signal * y - 1.5)))
    if decimals is not None:
        p = np.round(p, decimals)  # many ties
    return y, p


def _ks_brute(y, p):
    best = 0.0
    for t in np.unique(p):
        best = max(best, abs((p[y == 1] <= t).mean() - (p[y == 0] <= t).mean()))
    return best


def _h_brute(y, p, a=2.0, b=2.0):
    """H-measure straight from Hand's definition: min loss over all thresholds,
    integrated numerically over the Beta(a, b) cost density (no hull involved)."""
    pi1 = y.mean()
    pi0 = 1.0 - pi1
    t = np.concatenate([[-1.0], np.unique(p)])
    f0 = (p[y == 0][None, :] <= t[:, None]).mean(axis=1)
    f1 = (p[y == 1][None, :] <= t[:, None]).mean(axis=1)
    c = np.linspace(0.0, 1.0, 100_001)
    u = beta_dist.pdf(c, a, b)
    q = (c[:, None] * pi0 * (1 - f0) + (1 - c[:, None]) * pi1 * f1).min(axis=1)
    loss = np.trapezoid(q * u, c)
    loss_max = np.trapezoid(np.minimum(c * pi0, (1 - c) * pi1) * u, c)
    return 1.0 - loss / loss_max


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("decimals", [1, 2, None])
def test_auc_gini_match_sklearn_with_ties(seed, decimals):
    y, p = _data(700, seed, decimals=decimals)
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert gini(y, p) == pytest.approx(2 * roc_auc_score(y, p) - 1, abs=1e-12)


def test_auc_all_tied_is_half_and_perfect_is_one():
    y = np.array([0, 1, 0, 1, 1])
    assert auc(y, np.full(5, 0.3)) == 0.5
    assert auc(y, y * 0.8 + 0.1) == 1.0
    assert auc(y, 1 - y) == 0.0


@pytest.mark.parametrize("seed", [0, 3])
def test_ks_matches_brute_force(seed):
    y, p = _data(400, seed, decimals=2)
    assert ks(y, p) == pytest.approx(_ks_brute(y, p), abs=1e-12)
    y2, p2 = _data(300, seed, decimals=None)
    assert ks(y2, p2) == pytest.approx(_ks_brute(y2, p2), abs=1e-12)


@pytest.mark.parametrize("max_fpr", [0.1, 0.4, 0.77, 1.0])
def test_partial_gini_matches_sklearn_mcclish(max_fpr):
    y, p = _data(900, 5, decimals=2)
    expected = 2 * roc_auc_score(y, p, max_fpr=max_fpr) - 1 if max_fpr < 1 else gini(y, p)
    assert partial_gini(y, p, max_fpr) == pytest.approx(expected, abs=1e-12)
    assert partial_gini(y, y * 0.5 + 0.2, max_fpr) == pytest.approx(1.0)


def test_brier_and_log_loss_match_sklearn():
    y, p = _data(1000, 4, decimals=3)
    p = np.clip(p, 0.001, 0.999)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p), rel=1e-12)
    # A confident mistake is clipped, not infinite.
    assert np.isfinite(log_loss([1, 0], [0.0, 1.0]))


def test_ece_hand_computation_equal_frequency_bins():
    # 4 citizens, 2 bins: {0.1, 0.2} with 1 default, {0.6, 0.9} with 2 defaults.
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.6, 0.9])
    expected = 0.5 * abs(0.5 - 0.15) + 0.5 * abs(1.0 - 0.75)
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)
    # One bin: |mean(y) - mean(p)|.
    assert expected_calibration_error(y, p, n_bins=1) == pytest.approx(abs(0.75 - 0.45))


def test_ece_small_when_calibrated_large_when_not():
    rng = np.random.default_rng(0)
    p = rng.beta(1.0, 4.0, size=50_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    y_bad = (rng.random(p.size) < np.sqrt(p)).astype(int)  # p under-predicts risk
    assert expected_calibration_error(y_bad, p) > 0.15


@pytest.mark.parametrize(("a", "b"), [(2.0, 2.0), (1.0, 3.0), (3.5, 1.5)])
@pytest.mark.parametrize("decimals", [1, None])
def test_h_measure_matches_numerical_integration(a, b, decimals):
    y, p = _data(250, 11, decimals=decimals)
    assert h_measure(y, p, a, b) == pytest.approx(_h_brute(y, p, a, b), abs=1e-6)


def test_h_measure_range_perfect_and_random():
    y, p = _data(2000, 2)
    assert 0.0 < h_measure(y, p) < 1.0
    assert h_measure(y, y * 0.6 + 0.2) == pytest.approx(1.0)
    rng = np.random.default_rng(9)
    y_rand = (rng.random(40_000) < 0.3).astype(int)
    assert 0.0 <= h_measure(y_rand, rng.random(40_000)) < 0.01
    assert h_measure(y_rand, np.full(40_000, 0.3)) == pytest.approx(0.0, abs=1e-12)


def test_weighted_kernels_equal_metrics_on_expanded_sample():
    """Integer weights (including zeros) must act exactly like repeated citizens."""
    y, p = _data(300, 8, decimals=2)
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=(3, y.size))
    lay = m._layout(y.astype(np.int8), p)
    P, N = m._group_counts(lay, counts)
    got = m._all_kernels(P, N, lay, alpha=2.0, beta=2.0, max_fpr=0.4)
    for r in range(3):
        ye, pe = np.repeat(y, counts[r]), np.repeat(p, counts[r])
        ref = metric_table(ye, pe)
        for key in ("auc", "gini", "ks", "partial_gini", "h_measure", "brier", "log_loss"):
            assert got[key][r] == pytest.approx(ref[key], abs=1e-10), key


def test_approval_metrics_hand_example():
    y = np.array([0, 1, 0, 0, 1, 1])
    approved = np.array([True, True, True, True, False, False])
    out = approval_metrics(y, approved)
    assert out == {"approval_rate": pytest.approx(4 / 6),
                   "default_rate_approved": pytest.approx(0.25),
                   "default_rate_rejected": pytest.approx(1.0)}
    assert np.isnan(approval_metrics(y, np.ones(6, bool))["default_rate_rejected"])


def test_metric_table_has_every_metric():
    y, p = _data(500, 1)
    table = metric_table(y, p, approved=p < 0.3)
    assert set(table) == {"auc", "gini", "ks", "partial_gini", "h_measure", "brier",
                          "log_loss", "ece", "approval_rate", "default_rate_approved",
                          "default_rate_rejected"}
    assert table["auc"] == pytest.approx(auc(y, p))
    assert table["h_measure"] == pytest.approx(h_measure(y, p))
    assert table["ece"] == pytest.approx(expected_calibration_error(y, p))
    assert all(isinstance(v, float) for v in table.values())


def test_bootstrap_intervals_properties():
    y, p = _data(3000, 3)
    approved = p < 0.3
    point = metric_table(y, p, approved)
    ci = bootstrap_intervals(y, p, approved, n_boot=200, seed=0)
    assert set(ci) == set(point)
    for key, (low, high) in ci.items():
        assert low <= point[key] <= high, key
        assert low < high, key
    assert bootstrap_intervals(y, p, approved, n_boot=200, seed=0) == ci
    other = bootstrap_intervals(y, p, approved, n_boot=200, seed=1)
    assert other != ci and other["auc"] != ci["auc"]


def test_bootstrap_width_shrinks_with_n():
    y_small, p_small = _data(500, 6)
    y_big, p_big = _data(20_000, 6)
    small = bootstrap_intervals(y_small, p_small, n_boot=100, seed=0)
    big = bootstrap_intervals(y_big, p_big, n_boot=100, seed=0)
    for key in ("auc", "ks", "h_measure", "brier", "ece"):
        assert big[key][1] - big[key][0] < 0.5 * (small[key][1] - small[key][0]), key


def test_bootstrap_skips_replicates_without_both_classes():
    y = np.array([0] * 9 + [1])
    p = np.linspace(0.05, 0.95, 10)
    ci = bootstrap_intervals(y, p, n_boot=50, seed=0)
    assert ci["auc"] == (1.0, 1.0)  # replicates without the defaulter are left out


@pytest.mark.parametrize("fn", [auc, gini, ks, h_measure, partial_gini, metric_table,
                                bootstrap_intervals])
def test_ranking_metrics_reject_one_class(fn):
    with pytest.raises(ValueError, match="both defaulters and non-defaulters"):
        fn(np.zeros(5, int), np.linspace(0, 1, 5))


@pytest.mark.parametrize("fn", [auc, ks, brier, log_loss, expected_calibration_error,
                                h_measure, metric_table])
def test_bad_input_raises(fn):
    with pytest.raises(ValueError, match="Length mismatch"):
        fn([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        fn([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="NaN"):
        fn([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="only 0"):
        fn([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="Length mismatch"):
        approval_metrics([0, 1], [True])


# ------------------------------------------------ bootstrap on rank groups (large samples)


def _replicates(y, p, groups, n_boot=40, seed=5):
    """Every replicate's metrics, exact and on ``groups`` rank groups, same draws."""
    lay = m._layout(np.asarray(y, np.int8), np.asarray(p, float), 10)
    coarse = m._coarse(lay, groups, None)
    (counts,) = m._draw_counts(len(y), n_boot, seed)[:1]
    kw = {"alpha": 2.0, "beta": 2.0, "max_fpr": 0.4}
    exact = m._all_kernels(*m._group_counts(lay, counts), lay, **kw)
    return lay, coarse, counts, exact, m._coarse_kernels(counts, lay, coarse, **kw)


def test_rank_groups_never_split_tied_predictions():
    y, p = _data(20_000, 11, decimals=3)  # about 1,000 distinct values, many ties
    lay = m._layout(np.asarray(y, np.int8), p, 10)
    coarse = m._coarse(lay, 300, None)
    assert np.isin(coarse.starts, lay.starts).all()
    assert coarse.starts[0] == 0 and np.all(np.diff(coarse.starts) > 0)
    assert 250 <= coarse.starts.size <= 300


def test_each_replicates_auc_is_within_the_stated_binning_bound():
    y, p = _data(30_000, 12, decimals=None)
    lay, coarse, counts, exact, grouped = _replicates(y, p, 500)
    w = counts[:, lay.order].astype(float)
    P = np.add.reduceat(w * lay.y_sorted, coarse.starts, axis=1)
    N = np.add.reduceat(w, coarse.starts, axis=1) - P
    bound = (P * N).sum(axis=1) / (2 * P.sum(axis=1) * N.sum(axis=1))
    error = np.abs(grouped["auc"] - exact["auc"])
    assert np.all(error <= bound + 1e-12)
    assert error.max() > 0  # 500 groups of 60 citizens: the grouping does change the AUC
    pi = y.mean()
    assert bound.max() <= 1.1 / (8 * 500 * pi * (1 - pi))  # the docstring's closed form
    # KS: off by at most the largest share of either class in one group
    share = np.maximum(P / P.sum(axis=1, keepdims=True), N / N.sum(axis=1, keepdims=True))
    assert np.all(np.abs(grouped["ks"] - exact["ks"]) <= share.max(axis=1) + 1e-12)


def test_sums_over_citizens_stay_exact_on_rank_groups():
    y, p = _data(30_000, 13, decimals=None)
    _, _, _, exact, grouped = _replicates(y, p, 500)
    for key in ("brier", "log_loss", "ece"):
        np.testing.assert_allclose(grouped[key], exact[key], rtol=1e-10, atol=1e-13)


def test_intervals_keep_every_value_up_to_max_groups_and_group_above():
    y, p = _data(5_000, 14, decimals=None)
    approved = p < 0.25
    distinct = np.unique(p).size
    exact = bootstrap_intervals(y, p, approved, n_boot=50, seed=2, max_groups=None)
    assert bootstrap_intervals(y, p, approved, n_boot=50, seed=2,
                               max_groups=distinct) == exact
    grouped = bootstrap_intervals(y, p, approved, n_boot=50, seed=2, max_groups=200)
    assert grouped != exact
    for key in ("auc", "gini", "ks", "partial_gini", "h_measure"):
        assert grouped[key] == pytest.approx(exact[key], abs=5e-3), key
    for key in ("brier", "log_loss", "ece", "approval_rate", "default_rate_approved",
                "default_rate_rejected"):
        assert grouped[key] == pytest.approx(exact[key], rel=1e-9), key


@pytest.mark.parametrize("bad", [1, 2.5, 0])
def test_max_groups_must_be_an_integer_of_two_or_more(bad):
    y, p = _data(200, 15)
    with pytest.raises(ValueError, match="max_groups"):
        bootstrap_intervals(y, p, n_boot=10, max_groups=bad)
