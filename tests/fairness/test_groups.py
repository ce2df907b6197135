"""Group metrics: suppression, agreement with fairlearn, label bias against the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference

from scorelab.config import Fairness
from scorelab.data import generate_population
from scorelab.fairness import disparities, group_metrics
from tests.conftest import make_config


def _toy(n_small: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = 2000
    frame = pd.DataFrame({"citizen_id": np.arange(n), "age": rng.uniform(30, 60, n),
                          "sex": pd.Categorical(rng.choice(["female", "male"], n)),
                          "minority": pd.Categorical(np.where(np.arange(n) < n_small,
                                                              "minority", "majority"))})
    y = (rng.random(n) < 0.2).astype(int)
    y[:n_small] = 0  # the small group has no defaulters either
    p = np.clip(0.2 + 0.3 * (y - 0.2) + rng.normal(0, 0.1, n), 0.01, 0.99)
    approved = p < 0.2
    return frame, y, p, approved


def test_small_group_is_suppressed_never_zero_or_one():
    frame, y, p, approved = _toy()
    cfg = Fairness(attributes=["minority", "sex"], intersections=[], bootstrap=50)
    table = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, seed=1)
    small = table[(table["attribute"] == "minority") & (table["group"] == "minority")]
    assert len(small) == 9 and small["suppressed"].all()
    assert small["value"].isna().all() and small["ci_low"].isna().all()
    assert small["ratio"].isna().all() and small["difference"].isna().all()
    assert small["suppressed_reason"].str.contains("min_group_size").all()
    # the reference falls back to the largest unsuppressed group
    assert (table[table["attribute"] == "minority"]["reference_group"] == "majority").all()


def test_group_without_defaulters_suppresses_tpr_but_not_approval():
    frame, y, p, approved = _toy(n_small=80)
    cfg = Fairness(attributes=["minority"], intersections=[], bootstrap=0)
    table = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg)
    g = table[table["group"] == "minority"].set_index("metric")
    for metric in ("tpr", "fnr", "auc"):
        assert g.loc[metric, "suppressed"] and np.isnan(g.loc[metric, "value"])
        assert "no defaulters" in g.loc[metric, "suppressed_reason"]
    assert not g.loc["approval_rate", "suppressed"]
    assert g.loc["approval_rate", "value"] == pytest.approx(approved[:80].mean())


def test_point_values_and_equalized_odds_match_fairlearn():
    frame, y, p, approved = _toy(n_small=0, seed=3)
    frame["minority"] = pd.Categorical(np.where(frame["age"] < 40, "minority", "majority"))
    cfg = Fairness(attributes=["minority"], intersections=[], bootstrap=100)
    table = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, seed=2)
    g = table[table["group"] == "minority"].set_index("metric")
    m = frame["minority"].to_numpy() == "minority"
    rejected = ~approved
    assert g.loc["tpr", "value"] == pytest.approx(rejected[m & (y == 1)].mean())
    assert g.loc["fpr", "value"] == pytest.approx(rejected[m & (y == 0)].mean())
    assert g.loc["tpr", "ci_low"] <= g.loc["tpr", "value"] <= g.loc["tpr", "ci_high"]
    disp = disparities(table, 0.8).iloc[0]
    expected = equalized_odds_difference(y, rejected.astype(int),
                                         sensitive_features=frame["minority"].astype(str))
    assert disp["equalized_odds_difference"] == pytest.approx(expected)
    assert 0 <= disp["p_value_approval"] <= 1


def test_bootstrap_is_seeded():
    frame, y, p, approved = _toy(n_small=0)
    cfg = Fairness(attributes=["sex"], intersections=[], bootstrap=50)
    a = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, seed=5)
    b = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_label_bias_shows_against_observed_not_true_outcome():
    cfg = make_config({"population": {"causes": {"label_bias": {"flip_rate": 0.15}}},
                       "fairness": {"attributes": ["minority"], "intersections": [],
                                    "bootstrap": 100}}, n=20_000, seed=3)
    frame = generate_population(cfg.population, cfg.seed).frame
    p = frame["true_pd"].to_numpy()  # an unbiased score: the truth itself
    approved = p < 0.2
    table = group_metrics(frame["defaulted"], frame["true_default"], p, 600 - 100 * p,
                          approved, frame, cfg.fairness, seed=0)
    rate = table[(table["metric"] == "default_rate") & (table["group"] == "minority")] \
        .set_index("outcome")
    assert rate.loc["observed", "reference_group"] == "majority"
    assert rate.loc["observed", "difference"] > 0.08  # recorded more harshly
    assert abs(rate.loc["true", "difference"]) < 0.02
    cal = table[(table["metric"] == "calibration_gap") & (table["group"] == "minority")] \
        .set_index("outcome")
    assert cal.loc["observed", "ci_high"] < -0.05  # the truth looks under-predicted
    assert cal.loc["true", "ci_low"] < 0 < cal.loc["true", "ci_high"]
    disp = disparities(table).set_index("outcome")
    assert disp.loc["observed", "equalized_odds_difference"] > \
        disp.loc["true", "equalized_odds_difference"]


def _with_missing():
    frame, y, p, approved = _toy()
    frame = frame.rename(columns={"age": "AGE", "sex": "Sex"})
    frame.loc[[3, 70], "Sex"] = np.nan
    frame.loc[5, "AGE"] = np.nan
    return frame, y, p, approved


def test_missing_protected_values_form_their_own_suppressed_group():
    frame, y, p, approved = _with_missing()
    cfg = Fairness(attributes=["AGE", "Sex"], intersections=[["AGE", "Sex"]], bootstrap=20,
                   age_bands=[18, 40, 50])
    table = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, age_column="AGE")
    assert set(table["attribute"]) == {"AGE_band", "Sex", "AGE_band x Sex"}
    rate = table[table["metric"] == "approval_rate"].set_index(["attribute", "group"])
    assert rate.loc[("Sex", "missing"), "n"] == 2
    assert rate.loc[("AGE_band", "missing"), "n"] == 1  # not put in the oldest band
    assert rate.loc[("AGE_band", "50+"), "n"] == int((frame["AGE"] >= 50).sum())
    assert bool(rate.loc[("Sex", "missing"), "suppressed"])
    assert np.isnan(rate.loc[("Sex", "missing"), "value"])
    forties_missing = int((frame["AGE"].between(40, 49) & frame["Sex"].isna()).sum())
    assert forties_missing >= 1  # the toy population has such a citizen
    assert rate.loc[("AGE_band x Sex", "40-49 x missing"), "n"] == forties_missing


def test_missing_protected_values_dropped_belong_to_no_group():
    frame, y, p, approved = _with_missing()
    cfg = Fairness(attributes=["AGE", "Sex"], intersections=[["AGE", "Sex"]], bootstrap=0,
                   age_bands=[18, 40, 50], missing_protected="drop")
    table = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, age_column="AGE")
    rate = table[table["metric"] == "approval_rate"]
    assert "missing" not in " ".join(rate["group"])
    n = rate.groupby("attribute")["n"].sum()
    assert n["Sex"] == len(frame) - 2 and n["AGE_band"] == len(frame) - 1
    assert n["AGE_band x Sex"] == len(frame) - 3


def test_group_column_bands_age_cuts_other_numbers_into_quintiles():
    from scorelab.data.groups import group_column

    frame = pd.DataFrame({"AGE": [19.0, 30, np.nan, 70], "score": [1.0, 2, 3, 4],
                          "income": np.arange(4.0) * 1000})
    frame = pd.concat([frame] * 5, ignore_index=True).assign(
        income=lambda f: np.arange(len(f)) * 100.0)
    age = group_column(frame, "AGE", [18, 26, 66], age_column="AGE")
    assert age.name == "AGE_band"
    assert age.iloc[:4].tolist() == ["18-25", "26-65", "missing", "66+"]
    assert group_column(frame, "AGE", [18, 26], "AGE", missing="drop").isna().sum() == 5
    few = group_column(frame, "score", [18])
    assert list(few.cat.categories) == ["1", "2", "3", "4"]
    quint = group_column(frame, "income", [18])
    assert len(quint.cat.categories) == 5 and quint.value_counts().eq(4).all()
    assert list(quint.cat.categories) == ["0-300", "400-700", "800-1100", "1200-1500",
                                          "1600-1900"]


def test_a_ratio_interval_is_normal_on_the_log_scale_of_its_replicates():
    """ratio * exp(+/- z sd(log replicates)); a zero replicate (no log) falls back to
    the percentile interval; too few finite replicates give NaN, as for a rate."""
    from scorelab.fairness.groups import _intervals, _ratio_intervals

    rng = np.random.default_rng(3)
    reps = np.exp(rng.normal(np.log(0.8), 0.05, size=(400, 2)))
    reps[0, 1] = 0.0  # column 1 has a replicate with no approvals in the group
    reps[:300, 0] = np.where(np.arange(300) < 250, reps[:300, 0], np.nan)
    ratio = np.array([0.8, 0.8])
    lo, hi = _ratio_intervals(ratio, reps, 0.05)
    sd = np.nanstd(np.log(reps[:, 0]), ddof=1)
    np.testing.assert_allclose([lo[0], hi[0]], [0.8 * np.exp(-1.959964 * sd),
                                                 0.8 * np.exp(1.959964 * sd)], rtol=1e-6)
    plo, phi = _intervals(reps, 0.05)
    assert (lo[1], hi[1]) == (plo[1], phi[1])
    few = np.full((400, 1), np.nan)
    few[:5, 0] = 0.9
    assert np.isnan(_ratio_intervals(np.array([0.9]), few, 0.05)[0]).all()


def test_group_ratio_intervals_hold_the_ratio_and_the_reference_is_one():
    frame, y, p, approved = _toy(n_small=0)
    cfg = Fairness(attributes=["sex"], intersections=[], bootstrap=200)
    table = group_metrics(y, None, p, 600 - 100 * p, approved, frame, cfg, seed=2)
    rows = table[(table["metric"] == "approval_rate") & (table["outcome"] == "observed")]
    for _, row in rows.iterrows():
        if row["group"] == row["reference_group"]:
            assert row["ratio_ci_low"] == row["ratio_ci_high"] == 1.0
        else:  # symmetric on the log scale around the ratio itself
            assert row["ratio_ci_low"] < row["ratio"] < row["ratio_ci_high"]
            np.testing.assert_allclose(np.log(row["ratio_ci_high"] / row["ratio"]),
                                       np.log(row["ratio"] / row["ratio_ci_low"]))
