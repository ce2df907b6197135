"""DeLong, compare-to-best, Friedman/Demsar and Holm against references and hand sums."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from scorelab.evaluate import compare_to_best, delong_test, friedman_holm, holm


def _data(n: int, seed: int, decimals: int | None = 1):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    z = rng.normal(size=n)
    p_a = 1 / (1 + np.exp(-(z + 1.0 * y - 1)))
    p_b = 1 / (1 + np.exp(-(0.5 * z + rng.normal(size=n) + 0.7 * y - 1)))
    if decimals is not None:
        p_a, p_b = np.round(p_a, decimals), np.round(p_b, decimals)
    return y, p_a, p_b


def _delong_quadratic(y, p_a, p_b):
    """DeLong (1988) from the O(n^2) placement values, written out directly."""
    comps = []
    aucs = []
    for p in (p_a, p_b):
        x, z = p[y == 1], p[y == 0]
        psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        aucs.append(psi.mean())
        comps.append((psi.mean(axis=1), psi.mean(axis=0)))  # V10 per defaulter, V01
    m, n = (y == 1).sum(), (y == 0).sum()
    s10 = np.cov(np.vstack([comps[0][0], comps[1][0]]))
    s01 = np.cov(np.vstack([comps[0][1], comps[1][1]]))
    s = s10 / m + s01 / n
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    diff = aucs[0] - aucs[1]
    z = diff / np.sqrt(var)
    return aucs, diff, np.sqrt(var), z, 2 * stats.norm.sf(abs(z))


@pytest.mark.parametrize(("seed", "decimals"), [(0, 1), (1, 2), (2, None)])
def test_delong_matches_quadratic_reference(seed, decimals):
    y, p_a, p_b = _data(150, seed, decimals)
    out = delong_test(y, p_a, p_b)
    aucs, diff, se, z, p_value = _delong_quadratic(y, p_a, p_b)
    assert out["auc_a"] == pytest.approx(aucs[0], abs=1e-12)
    assert out["auc_b"] == pytest.approx(aucs[1], abs=1e-12)
    assert out["auc_a"] == pytest.approx(roc_auc_score(y, p_a), abs=1e-12)
    assert out["diff"] == pytest.approx(diff, abs=1e-12)
    assert out["se"] == pytest.approx(se, rel=1e-9)
    assert out["z"] == pytest.approx(z, rel=1e-9)
    assert out["p_value"] == pytest.approx(p_value, rel=1e-9)


def test_delong_identical_predictions():
    y, p_a, _ = _data(300, 3)
    out = delong_test(y, p_a, p_a)
    assert out["diff"] == 0.0 and out["p_value"] == 1.0 and out["z"] == 0.0
    # A monotone transform ranks identically: same AUC, no evidence of a difference.
    out2 = delong_test(y, p_a, p_a**2)
    assert out2["diff"] == pytest.approx(0.0, abs=1e-15) and out2["p_value"] == 1.0


def test_delong_detects_a_truly_better_model():
    y, p_a, p_b = _data(3000, 4, decimals=None)
    out = delong_test(y, p_a, p_b)
    assert out["diff"] > 0.05
    assert out["p_value"] < 1e-6
    assert delong_test(y, p_b, p_a)["z"] == pytest.approx(-out["z"])


def test_delong_bad_input():
    with pytest.raises(ValueError, match="Length mismatch"):
        delong_test([0, 1, 1], [0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="both defaulters"):
        delong_test([1, 1], [0.1, 0.2], [0.1, 0.2])


def test_holm_matches_hand_computation():
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06.
    got = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
    assert holm([]).size == 0


def test_compare_to_best():
    y, p_a, p_b = _data(3000, 5, decimals=None)
    rng = np.random.default_rng(0)
    p_c = np.clip(p_a + rng.normal(0, 0.001, size=y.size), 0, 1)  # as good as a
    table = compare_to_best(y, {"weak": p_b, "strong": p_a, "twin": p_c})
    assert list(table.columns) == ["model", "auc", "diff_to_best", "p_value", "p_holm",
                                   "significant", "verdict"]
    assert table["model"].iloc[0] in ("strong", "twin")
    assert table["diff_to_best"].iloc[0] == 0.0
    assert (table["diff_to_best"] <= 0).all()
    assert table["auc"].is_monotonic_decreasing
    row = table.set_index("model")
    best = table["model"].iloc[0]
    other_twin = "twin" if best == "strong" else "strong"
    assert row.loc["weak", "significant"]
    assert row.loc["weak", "verdict"].startswith("significantly worse than the best")
    assert not row.loc[other_twin, "significant"]
    assert row.loc[other_twin, "verdict"].startswith("not significantly different from the best")
    assert row.loc[best, "verdict"].startswith("best model")
    raw = table["p_value"].iloc[1:].to_numpy()
    np.testing.assert_allclose(table["p_holm"].iloc[1:], holm(raw))
    assert row.loc["weak", "auc"] == pytest.approx(roc_auc_score(y, p_b))


def test_friedman_mean_ranks_hand_table():
    scores = pd.DataFrame({
        "A": [0.80, 0.82, 0.79, 0.81],
        "B": [0.75, 0.80, 0.79, 0.70],
        "C": [0.70, 0.60, 0.65, 0.71],
    })
    # Ranks (1 = best): fold1 A1 B2 C3; fold2 A1 B2 C3; fold3 A1.5 B1.5 C3; fold4 A1 B3 C2.
    out = friedman_holm(scores)
    expected = {"A": 4.5 / 4, "B": 8.5 / 4, "C": 11 / 4}
    assert out["mean_ranks"].to_dict() == pytest.approx(expected)
    assert list(out["mean_ranks"].index) == ["A", "B", "C"]
    ref = stats.friedmanchisquare(*scores.to_numpy().T)
    assert out["test"] == "friedman"
    assert out["statistic"] == pytest.approx(ref.statistic)
    assert out["p_value"] == pytest.approx(ref.pvalue)
    pw = out["pairwise"].set_index(["model_a", "model_b"])
    se = np.sqrt(3 * 4 / (6 * 4))
    z_ac = (expected["A"] - expected["C"]) / se
    assert pw.loc[("A", "C"), "z"] == pytest.approx(z_ac)
    raw = 2 * stats.norm.sf(np.abs(pw["z"].to_numpy()))
    np.testing.assert_allclose(pw["p_value"], raw)
    np.testing.assert_allclose(pw["p_holm"], holm(raw))
    assert (pw["significant"] == (pw["p_holm"] < 0.05)).all()
    assert "no significant difference between A and B" in pw.loc[("A", "B"), "verdict"]


def test_friedman_finds_a_consistently_better_model():
    rng = np.random.default_rng(0)
    base = rng.normal(0.75, 0.01, size=(10, 1))
    scores = pd.DataFrame(base + np.array([0.05, 0.0, -0.05, -0.051]) +
                          rng.normal(0, 0.001, size=(10, 4)), columns=list("ABCD"))
    out = friedman_holm(scores)
    assert out["p_value"] < 0.001
    pw = out["pairwise"].set_index(["model_a", "model_b"])
    assert pw.loc[("A", "D"), "significant"]
    assert pw.loc[("A", "D"), "verdict"].startswith("A ranks significantly better than D")
    assert not pw.loc[("C", "D"), "significant"]


def test_friedman_two_models_uses_sign_test():
    scores = pd.DataFrame({"A": [0.8, 0.81, 0.82, 0.83, 0.84, 0.85],
                           "B": [0.7, 0.71, 0.72, 0.73, 0.74, 0.85]})
    out = friedman_holm(scores)
    assert out["test"] == "sign test"
    # 5 wins, 0 losses (one tie dropped): two-sided exact p = 2 * 0.5**5.
    assert out["p_value"] == pytest.approx(2 * 0.5**5)
    assert len(out["pairwise"]) == 1


def test_friedman_bad_input():
    with pytest.raises(ValueError, match="at least 2 models"):
        friedman_holm(pd.DataFrame({"A": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="NaN"):
        friedman_holm(pd.DataFrame({"A": [1.0, np.nan], "B": [1.0, 2.0]}))
