"""The four-fifths screen with its certainty: Holm across every model and attribute
tells a significant failure from a ratio below the screen that small groups cannot
tell from chance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scorelab.core.numeric import holm
from scorelab.fairness.groups import two_proportion_test
from scorelab.fairness.screen import (
    BELOW,
    NOT_ASSESSED,
    PASS,
    SIGNIFICANT,
    screen_all,
    worst_screen,
)


def _row(attribute: str, low: float, n_low: int, high: float, n_high: int,
         outcome: str = "observed") -> dict:
    return {"outcome": outcome, "attribute": attribute, "worst_approval_ratio": low / high,
            "p_value_approval": two_proportion_test(low * n_low, n_low, high * n_high,
                                                    n_high)}


def test_large_groups_fail_significantly_small_groups_do_not() -> None:
    tables = {
        # 40% against 70% in groups of 2,000: far beyond chance
        "big": pd.DataFrame([_row("age_band", 0.40, 2000, 0.70, 2000),
                             _row("sex", 0.69, 2000, 0.70, 2000)]),
        # the same ratio in groups of 12: a two-proportion test cannot tell
        "small": pd.DataFrame([_row("age_band", 0.40, 12, 0.70, 12),
                               _row("sex", 0.69, 12, 0.70, 12)]),
    }
    out = screen_all(tables, 0.8)
    assert out["big"]["screen"].tolist() == [SIGNIFICANT, PASS]
    assert out["small"]["screen"].tolist() == [BELOW, PASS]
    # one Holm family over the four tests, in input order
    p = [r["p_value_approval"] for t in tables.values() for r in t.to_dict("records")]
    got = [v for t in out.values() for v in t["p_holm_approval"]]
    np.testing.assert_allclose(got, holm(p))
    assert worst_screen(out["big"]["screen"].tolist()) == SIGNIFICANT
    assert worst_screen(out["small"]["screen"].tolist()) == BELOW


def test_more_tests_in_the_family_weaken_a_borderline_failure() -> None:
    """A failure that is significant alone (p about 0.01) is not once 20 other models
    are screened with it: the correction is across models, as an examiner reads them."""
    alone = {"m": pd.DataFrame([_row("age_band", 0.55, 150, 0.70, 150)])}
    assert 0.001 < alone["m"]["p_value_approval"].iloc[0] < 0.02
    assert screen_all(alone, 0.8)["m"]["screen"].iloc[0] == SIGNIFICANT
    crowd = {**alone, **{f"o{i}": pd.DataFrame([_row("age_band", 0.7, 150, 0.7, 150)])
                         for i in range(20)}}
    assert screen_all(crowd, 0.8)["m"]["screen"].iloc[0] == BELOW


def test_the_truth_and_unassessed_rows_are_not_tested() -> None:
    table = pd.DataFrame([_row("age_band", 0.40, 2000, 0.70, 2000, outcome="true"),
                          {"outcome": "observed", "attribute": "sex",
                           "worst_approval_ratio": np.nan, "p_value_approval": np.nan}])
    out = screen_all({"m": table}, 0.8)["m"]
    assert out["screen"].tolist() == ["fail", NOT_ASSESSED]
    assert out["p_holm_approval"].isna().all()
