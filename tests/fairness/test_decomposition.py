"""The age-gap decomposition's parts, their bootstrap intervals and how they are read."""

from __future__ import annotations

import numpy as np
import pytest

from scorelab.fairness.age import (
    READ_MISSES,
    READ_PENALISES,
    READ_ZERO,
    age_gap_decomposition,
    age_match_weights,
)
from scorelab.report.sections.age import decomposition_sentence


def _population(n: int = 4000, seed: int = 0, response: float = 0.0, legit: float = 0.0):
    """Scores that track true risk (b = -40 points per logit), plus what is asked for:
    ``response`` points the model gives the young twins beyond true risk, ``legit``
    logits of true risk the young lose when made older (a model that cannot see age)."""
    rng = np.random.default_rng(seed)
    young = rng.random(n) < 0.2
    L = rng.normal(-1.4, 1.0, n) + legit * young
    points = 600 - 40 * L + rng.normal(0, 15, n)
    twin_L = L - legit * young
    twin_points = points + response * young + rng.normal(0, 1, n) * young
    sig = 1 / (1 + np.exp(-np.stack([L, twin_L])))
    folds = rng.integers(0, 5, n)
    return points, young, sig[0], twin_points, sig[1], folds


def test_parts_add_up_alias_and_seeded_intervals():
    points, young, pd_, tp, tpd, folds = _population(response=8.0)
    kw = {"bootstrap": 100, "seed": 3, "folds": folds}
    a = age_gap_decomposition(points, young, pd_, tp, tpd, **kw)
    b = age_gap_decomposition(points, young, pd_, tp, tpd, **kw)
    assert a["intervals"] == b["intervals"]  # seeded
    assert a["proxy"] == a["response_beyond_true_risk"]  # documented alias
    assert a["intervals"]["proxy"] == a["intervals"]["response_beyond_true_risk"]
    parts = a["true_risk"] + a["response_beyond_true_risk"] + a["label_bias"] + a["residual"]
    assert parts == pytest.approx(a["total"], abs=1e-9)
    for key in ("total", "true_risk", "response_beyond_true_risk", "label_bias", "residual"):
        lo, hi = a["intervals"][key]
        assert lo <= a[key] <= hi
    # the twins gain 8 points beyond true risk: the young are penalised through the inputs
    assert a["response_beyond_true_risk"] == pytest.approx(-8.0, abs=0.5)
    assert a["reading"]["response_beyond_true_risk"] == READ_PENALISES
    assert a["distinguishable_from_zero"]["response_beyond_true_risk"]


def test_a_missed_age_difference_in_risk_is_not_read_as_a_proxy():
    points, young, pd_, tp, tpd, folds = _population(legit=0.5)
    d = age_gap_decomposition(points, young, pd_, tp, tpd, bootstrap=100, folds=folds)
    # true risk falls by 0.5 logit for the twins, the model does not move: +20 points
    assert d["response_beyond_true_risk"] == pytest.approx(20.0, abs=1.0)
    assert d["reading"]["response_beyond_true_risk"] == READ_MISSES
    sentence = decomposition_sentence("m", d)
    assert "missed age difference in risk" in sentence
    assert "penalise" not in sentence


def test_nothing_planted_every_interval_covers_zero():
    points, young, pd_, tp, tpd, folds = _population(seed=5)
    y = np.random.default_rng(1).random(points.size) < pd_
    d = age_gap_decomposition(points, young, pd_, tp, tpd, y_observed=y, y_true=y,
                              bootstrap=200, seed=1, folds=folds)
    assert not any(d["distinguishable_from_zero"].values())
    assert d["reading"]["response_beyond_true_risk"] == READ_ZERO
    assert "not distinguishable from zero" in decomposition_sentence("m", d)


def test_the_fold_models_widen_the_twin_interval():
    """Fold models that disagree about age's descendants widen the twin-based interval
    (the citizen bootstrap alone holds the models fixed)."""
    points, young, pd_, tp, tpd, folds = _population(seed=2)
    tp = tp + young * (folds - 2.0) * 3  # each fold model responds differently
    without = age_gap_decomposition(points, young, pd_, tp, tpd, bootstrap=100)
    with_folds = age_gap_decomposition(points, young, pd_, tp, tpd, bootstrap=100,
                                       folds=folds)
    width = {k: d["intervals"]["response_beyond_true_risk"][1]
             - d["intervals"]["response_beyond_true_risk"][0]
             for k, d in (("without", without), ("with", with_folds))}
    assert width["with"] > 2 * width["without"]
    assert with_folds["intervals"]["total"] == without["intervals"]["total"]


def test_no_bootstrap_no_intervals_and_the_sentence_says_so():
    points, young, pd_, tp, tpd, _ = _population(response=-8.0)
    d = age_gap_decomposition(points, young, pd_, tp, tpd)
    assert "intervals" not in d
    assert "No interval" in decomposition_sentence("m", d)


def _aged(n: int = 40_000, seed: int = 7, curve: float = 8.0, proxy: float = 0.0,
          legit: float = 0.8):
    """Citizens with ages like the population model's (beta over 18-80), the young under
    26 carrying ``legit`` logits of extra true risk (up to 35), and points that are
    ``600 - 40 L + curve * L^2`` (convex in true log-odds for curve > 0) plus ``proxy``
    points per squared decade of age (a response to age beyond true risk); the twins are
    the same citizens 20 years older."""
    rng = np.random.default_rng(seed)
    age = 18 + 62 * rng.beta(1.6, 2.6, n)
    base = rng.normal(-1.4, 1.0, n)

    def world(a):
        L = base + legit * np.clip((35 - a) / 17, 0, 1)
        return L, 600 - 40 * L + curve * L ** 2 + proxy * ((a - 18) / 10) ** 2

    L, points = world(age)
    twin_age = np.minimum(age + 20, 80)
    twin_L, twin_points = world(twin_age)
    sig = 1 / (1 + np.exp(-np.stack([L, twin_L])))
    return {"points": points, "young": age < 26, "true_pd": sig[0], "twin_points": twin_points,
                "twin_true_pd": sig[1]}, age, twin_age, rng.integers(0, 5, n)


def test_a_convex_score_of_true_risk_is_all_true_risk():
    """A model whose points are a convex function of true log-odds and nothing else:
    the true-risk part is the whole gap, the twin part and the residual cover zero
    (a straight line of points on true log-odds read the curvature as a response)."""
    kw, age, twin_age, folds = _aged()
    d = age_gap_decomposition(**kw, bootstrap=200, seed=2, folds=folds, age=age,
                              twin_age=twin_age)
    assert d["true_risk"] == pytest.approx(d["total"], abs=0.05)
    for key in ("response_beyond_true_risk", "residual"):
        lo, hi = d["intervals"][key]
        assert lo <= 0 <= hi, (key, d[key], lo, hi)
        assert hi - lo < 1.0  # not covering zero by being wide
    straight = np.polyfit(np.log(kw["true_pd"] / (1 - kw["true_pd"])), kw["points"], 1)[0]
    assert straight == pytest.approx(d["slope_points_per_logit"])
    L = np.log(kw["true_pd"] / (1 - kw["true_pd"]))
    line_part = straight * (L[kw["young"]].mean() - L[~kw["young"]].mean())
    assert abs(line_part - d["total"]) > 1.0  # what the straight line missed


@pytest.mark.parametrize("curve", [0.0, 8.0, -6.0])
def test_parts_add_up_for_every_input_combination(curve):
    kw, age, twin_age, folds = _aged(n=6000, curve=curve, proxy=3.0)
    rng = np.random.default_rng(3)
    refit = kw["points"] + rng.normal(0, 5, kw["points"].size)
    y = rng.random(refit.size) < kw["true_pd"]
    variants = [{}, {"age": age, "twin_age": twin_age},
                {"points_true_label": refit, "twin_points_true_label": refit + 3 * kw["young"],
                     "age": age, "twin_age": twin_age},
                {"points_true_label": refit}, {"y_observed": y, "y_true": y}]
    for extra in variants:
        d = age_gap_decomposition(**kw, bootstrap=50, seed=1, folds=folds, **extra)
        parts = d["true_risk"] + d["response_beyond_true_risk"] + d["label_bias"] + \
            d["residual"]
        assert abs(parts - d["total"]) < 1e-9, extra.keys()


def test_the_rest_span_more_ages_than_the_twins_reach():
    """Points that rise with age beyond true risk (a proxy): the twins move the young 20
    years only, the rest span 26-80. Matched to the twins' ages, the rest's extra
    difference joins the twin part and the residual covers zero; without the ages it
    stays in the residual (the cause of the residual the default study showed)."""
    kw, age, twin_age, folds = _aged(proxy=3.0, curve=0.0)
    matched = age_gap_decomposition(**kw, bootstrap=100, seed=4, folds=folds, age=age,
                                    twin_age=twin_age)
    twins_only = age_gap_decomposition(**kw, bootstrap=100, seed=4, folds=folds)
    lo, hi = matched["intervals"]["residual"]
    assert lo <= 0 <= hi, (matched["residual"], lo, hi)
    lo, hi = twins_only["intervals"]["residual"]
    assert hi < 0, (twins_only["residual"], lo, hi)
    extra = matched["response_parts"]["age_composition"]
    assert extra == pytest.approx(twins_only["residual"], abs=0.5)
    assert matched["response_parts"]["twins"] == pytest.approx(
        twins_only["response_beyond_true_risk"])
    # the whole gap beyond true risk is the response to age (no label bias planted)
    assert matched["response_beyond_true_risk"] == pytest.approx(
        matched["total"] - matched["true_risk"], abs=0.3)


def test_age_match_weights_give_the_twins_ages():
    rng = np.random.default_rng(0)
    age = rng.uniform(18, 80, 50_000)
    twin = np.where(age < 26, age + 20, np.nan)
    w = age_match_weights(age, twin)
    assert w.sum() == pytest.approx(np.isfinite(twin).sum())
    years = np.floor(age)
    for y in (38, 41, 45):
        assert w[years == y].sum() == pytest.approx((np.floor(twin) == y).sum())
    assert (w[(age < 38) | (age >= 46)] == 0).all()


def test_a_refit_that_agrees_gives_a_label_part_of_exactly_zero():
    kw, age, twin_age, folds = _aged(n=5000, proxy=3.0)
    d = age_gap_decomposition(**kw, points_true_label=kw["points"],
                              twin_points_true_label=kw["twin_points"], bootstrap=50,
                              folds=folds, age=age, twin_age=twin_age)
    assert d["label_bias"] == 0.0 and d["intervals"]["label_bias"] == [0.0, 0.0]
