"""The age-gap decomposition's parts, their bootstrap intervals and how they are read."""

from __future__ import annotations

import numpy as np
import pytest

from scorelab.fairness.age import (
    READ_MISSES,
    READ_PENALISES,
    READ_ZERO,
    age_gap_decomposition,
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
    kw = dict(bootstrap=100, seed=3, folds=folds)
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
