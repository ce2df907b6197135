"""The four-fifths screen with its certainty.

A ratio below four-fifths between two groups of 40 applicants is often chance; between
two groups of 4,000 it rarely is. Each model's worst approval ratio on each audited
attribute is tested (the two-proportion z-test of its lowest against its highest group,
``p_value_approval`` of :func:`~scorelab.fairness.groups.disparities`), and the tests are
corrected together with Holm's method across every model and attribute of the audit,
the family an examiner reads at once. A ratio below the screen is then one of two
findings: a **significant failure** (Holm-adjusted p below :data:`ALPHA`) or a ratio
**below the screen, not significant** (the groups are too small to tell it from chance).

The screen itself (four-fifths) is borrowed from US employment guidance (the Uniform
Guidelines' adverse impact ratio) and used in fair-lending practice as a first look,
never as proof of discrimination; the report's glossary says so in one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.numeric import holm
from scorelab.runs.contract import SCREEN_BELOW as BELOW
from scorelab.runs.contract import SCREEN_NOT_ASSESSED as NOT_ASSESSED
from scorelab.runs.contract import SCREEN_PASS as PASS
from scorelab.runs.contract import SCREEN_SIGNIFICANT as SIGNIFICANT
from scorelab.runs.contract import SCREENS as ORDER

__all__ = ["ALPHA", "BELOW", "NOT_ASSESSED", "PASS", "SIGNIFICANT", "screen_all",
           "worst_screen"]

#: Level of the Holm-corrected screen.
ALPHA = 0.05


def screen_all(disparities: Mapping[str, pd.DataFrame], four_fifths: float,
               alpha: float = ALPHA) -> dict[str, pd.DataFrame]:
    """Each model's disparity table with ``p_holm_approval`` and ``screen`` added.

    The Holm family is every observed-outcome row with a p-value, across all models and
    attributes; rows on the true outcome (a synthetic population's) are judged on the
    ratio alone, pass or fail (they describe the truth, not a sample to test), and keep
    a NaN p-value."""
    keys, p = [], []
    for model, table in disparities.items():
        for i, row in table.iterrows():
            value = row.get("p_value_approval")
            if row.get("outcome") == "observed" and value is not None and np.isfinite(value):
                keys.append((model, i))
                p.append(float(value))
    adjusted = dict(zip(keys, holm(p), strict=True)) if p else {}
    out = {}
    for model, table in disparities.items():
        table = table.copy()
        table["p_holm_approval"] = [adjusted.get((model, i), np.nan) for i in table.index]
        table["screen"] = [_screen(r, four_fifths, alpha) for r in table.to_dict("records")]
        out[model] = table
    return out


def _screen(row: dict[str, Any], four_fifths: float, alpha: float) -> str:
    ratio = row.get("worst_approval_ratio")
    if ratio is None or not np.isfinite(ratio):
        return NOT_ASSESSED
    if ratio >= four_fifths:
        return PASS
    if row.get("outcome") != "observed":
        return "fail"  # the truth's own ratio: nothing to test
    p = row.get("p_holm_approval")
    return SIGNIFICANT if p is not None and np.isfinite(p) and p < alpha else BELOW


def worst_screen(screens: list[str]) -> str:
    """The worst of several screens (a model's, over its attributes)."""
    return min(screens, key=ORDER.index) if screens else NOT_ASSESSED
