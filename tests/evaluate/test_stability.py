"""Population stability: PSI against a textbook computation and optbinning's own
formula, traffic lights, and the stability of inputs between folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from optbinning.binning.metrics import jeffrey

from scorelab.evaluate.stability import (
    EMPTY_SHARE,
    characteristic_stability,
    light,
    psi,
    psi_table,
)


def test_psi_equals_the_textbook_figure_on_a_fixed_example() -> None:
    """Reference: 1,000 values, ten deciles of 10% each. The new sample puts 5%, 5%,
    10% x 6, 15%, 15% in them: PSI = 2 (0.05 ln 2 + 0.05 ln 1.5) = 0.1 ln 3."""
    expected = np.arange(1000.0)
    shares = [0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15, 0.15]
    actual = np.concatenate([np.full(int(s * 1000), 100 * k + 50.0)
                             for k, s in enumerate(shares)])
    table = psi_table(expected, actual)
    np.testing.assert_allclose(table["expected_share"], 0.1)
    np.testing.assert_allclose(table["actual_share"], shares)
    assert psi(expected, actual) == pytest.approx(0.1 * np.log(3), rel=1e-12)
    assert light(psi(expected, actual)) == "amber"


def test_psi_equals_optbinnings_jeffrey_divergence() -> None:
    rng = np.random.default_rng(3)
    expected, actual = rng.normal(0, 1, 5000), rng.normal(0.3, 1.2, 4000)
    table = psi_table(expected, actual)
    assert (table["actual_share"] > 0).all()  # no empty bin: no floor involved
    want = jeffrey(table["actual_share"].to_numpy(), table["expected_share"].to_numpy(),
                   return_sum=True)
    assert psi(expected, actual) == pytest.approx(want, rel=1e-12)


def test_a_shifted_sample_is_red_and_the_same_sample_green() -> None:
    rng = np.random.default_rng(5)
    reference = rng.normal(600, 50, 3000)
    assert psi(reference, reference) == 0.0 and light(0.0) == "green"
    assert light(psi(reference, rng.normal(600, 50, 3000))) == "green"
    assert light(psi(reference, rng.normal(640, 50, 3000))) == "red"


def test_lights_follow_the_usual_thresholds() -> None:
    assert [light(v) for v in (0.0, 0.0999, 0.10, 0.2499, 0.25, float("nan"))] == \
        ["green", "green", "amber", "amber", "red", "n/a"]


def test_categories_and_missing_values_have_bins_of_their_own() -> None:
    expected = pd.Series(["a"] * 50 + ["b"] * 50)
    actual = pd.Series(["a"] * 40 + ["b"] * 40 + [None] * 20)
    table = psi_table(expected, actual).set_index("bin")
    assert table.loc["missing", "expected_share"] == 0.0
    assert table.loc["missing", "actual_share"] == pytest.approx(0.2)
    e = np.array([0.5, 0.5, EMPTY_SHARE])
    a = np.array([0.4, 0.4, 0.2])
    assert psi(expected, actual) == pytest.approx(float(((a - e) * np.log(a / e)).sum()))
    numbers = pd.Series([1.0, 2.0, np.nan, 4.0] * 25)
    assert "missing" in set(psi_table(numbers, numbers)["bin"])


def test_characteristic_stability_ranks_the_shifted_input_first() -> None:
    rng = np.random.default_rng(8)
    before = pd.DataFrame({"income": rng.lognormal(1, 0.3, 2000),
                           "sector": rng.choice(["a", "b", "c"], 2000)})
    after = before.assign(income=before["income"] * 1.5)
    table = characteristic_stability(before, after, ["sector", "income"])
    assert table["column"].tolist() == ["income", "sector"]
    assert table["light"].tolist() == ["red", "green"]
