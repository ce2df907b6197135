"""Probability -> points -> category, presets, config and the society scale."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scorelab.config import Scale
from scorelab.core.scale import (
    SESAME,
    SOCIETY_CLASSES,
    SUINING,
    ScoreScale,
    preset,
    scale_from_config,
    society_class,
    society_scale,
)

UNCLIPPED = ScoreScale(pdo=20.0, base_score=500.0, base_odds=10.0, low=-1e9, high=1e9,
                       bands=((-1e9, "all"),))


@pytest.mark.parametrize("scale", [SESAME, SUINING, UNCLIPPED])
def test_points_decrease_with_probability(scale):
    p = np.linspace(0.0, 1.0, 2001)
    pts = scale.points(p)
    assert (np.diff(pts) <= 0).all()
    inner = (pts > scale.low) & (pts < scale.high)
    assert (np.diff(pts[inner]) < 0).all()


@pytest.mark.parametrize("scale", [SESAME, SUINING, UNCLIPPED])
def test_base_score_and_pdo(scale):
    odds = scale.base_odds
    p_base = 1 / (1 + odds)
    assert scale.points(p_base) == pytest.approx(scale.base_score)
    p_double = 1 / (1 + 2 * odds)  # good:bad odds doubled
    assert scale.points(p_double) - scale.points(p_base) == pytest.approx(scale.pdo)
    p_half = 1 / (1 + odds / 2)
    assert scale.points(p_base) - scale.points(p_half) == pytest.approx(scale.pdo)


def test_probability_inverts_points():
    p = np.array([0.01, 0.05, 0.2, 0.5, 0.9])
    np.testing.assert_allclose(UNCLIPPED.probability(UNCLIPPED.points(p)), p, rtol=1e-10)
    assert SESAME.probability(600.0) == pytest.approx(0.2)
    assert SUINING.probability(1000.0) == pytest.approx(1 / 31)


def test_clipping():
    assert SESAME.points(0.0) == 950.0 and SESAME.points(1.0) == 350.0
    assert SUINING.points(0.0) == 1100.0 and SUINING.points(1.0) == 0.0
    # p is clipped to [1e-6, 1 - 1e-6] first, so p = 0 gives finite points.
    factor = UNCLIPPED.pdo / math.log(2)
    expected = 500 + factor * (math.log((1 - 1e-6) / 1e-6) - math.log(10.0))
    assert UNCLIPPED.points(0.0) == pytest.approx(expected)
    assert np.isfinite(UNCLIPPED.points([0.0, 1.0])).all()


def test_suining_categories_at_exact_boundaries():
    pts = [1100, 960, 959.99, 959, 850, 849, 600, 599.5, 599, 0]
    expected = ["A", "A", "B", "B", "B", "C", "C", "D", "D", "D"]
    assert SUINING.category(pts).tolist() == expected


def test_sesame_categories_at_boundaries():
    pts = [350, 549, 550, 599, 600, 649, 650, 699, 700, 950]
    expected = ["poor", "poor", "fair", "fair", "good", "good", "very good", "very good",
                "excellent", "excellent"]
    assert SESAME.category(pts).tolist() == expected


def test_suining_spreads_a_20_percent_population():
    """Defaults: most citizens in A-C and a real D group for a 20 % default rate."""
    rng = np.random.default_rng(0)
    p = 1 / (1 + np.exp(-rng.normal(-1.9, 1.4, size=100_000)))  # mean about 0.2
    assert 0.18 < p.mean() < 0.22
    cats = pd.Series(SUINING.category(SUINING.points(p))).value_counts(normalize=True)
    assert set(cats.index) == {"A", "B", "C", "D"}
    assert cats[["A", "B", "C"]].sum() > 0.8
    assert 0.03 < cats["D"] < 0.2
    assert all(cats[c] > 0.1 for c in "ABC")


def test_scale_from_config_presets_and_overrides():
    assert scale_from_config(Scale()) == SESAME
    assert scale_from_config(Scale(preset="suining")) == SUINING
    custom = scale_from_config(Scale(preset="suining", pdo=40.0))
    assert custom.pdo == 40.0 and custom.base_score == SUINING.base_score
    assert custom.bands == SUINING.bands

    class Legacy:  # the config before pdo/base_score/base_odds became optional
        preset = "sesame"
        pdo = 20.0
        base_score = 500.0
        base_odds = 8.0

    legacy = scale_from_config(Legacy())
    assert (legacy.pdo, legacy.base_score, legacy.base_odds) == (20.0, 500.0, 8.0)


def test_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        SESAME.points([0.2, 1.5])
    with pytest.raises(ValueError, match="Unknown scale preset"):
        preset("fico")
    with pytest.raises(ValueError, match="pdo must be positive"):
        ScoreScale(pdo=0, base_score=600, base_odds=4, low=0, high=1, bands=((0, "x"),))
    with pytest.raises(ValueError, match="increase strictly"):
        ScoreScale(pdo=1, base_score=600, base_odds=4, low=0, high=1,
                   bands=((5, "x"), (1, "y")))
    with pytest.raises(ValueError, match="finite"):
        SESAME.category([np.nan])


@pytest.mark.parametrize(("share", "cls"), [
    (1.0, "++"), (0.9, "++"), (0.8999, "+>-"), (0.5501, "+>-"), (0.55, "+=-"),
    (0.5, "+=-"), (0.45, "+=-"), (0.4499, "+<-"), (0.1001, "+<-"), (0.1, "--"), (0.0, "--"),
])
def test_society_class_thresholds(share, cls):
    assert society_class(share) == cls


def test_society_class_rejects_bad_share():
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError, match="share_above_600"):
            society_class(bad)


def test_society_scale_per_group():
    points = np.array([700, 650, 600, 599, 300, 800, 900, 950, 610, 620])
    groups = pd.Series(["x", "x", "x", "x", "x", "y", "y", "y", "y", "z"])
    table = society_scale(points, groups)
    assert list(table.columns) == ["group", "n", "share_above_600", "class",
                                   "class_description"]
    assert table["group"].tolist() == ["all", "x", "y", "z"]
    assert table["n"].tolist() == [10, 5, 4, 1]
    np.testing.assert_allclose(table["share_above_600"], [0.8, 0.6, 1.0, 1.0])  # 600 counts
    assert table["class"].tolist() == ["+>-", "+>-", "++", "++"]
    assert table["class_description"].tolist() == [SOCIETY_CLASSES[c] for c in table["class"]]
    bands = pd.Categorical(["old"] * 5 + ["young"] * 5, categories=["young", "old"])
    ordered = society_scale(points, pd.Series(bands, index=np.arange(10) + 100))
    assert ordered["group"].tolist() == ["all", "young", "old"]
    assert ordered["n"].tolist() == [10, 5, 5]
    alone = society_scale(points)
    assert alone["group"].tolist() == ["all"]
    with pytest.raises(ValueError, match="Length mismatch"):
        society_scale(points, groups.iloc[:3])
