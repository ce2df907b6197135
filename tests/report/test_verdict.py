"""Page one's less discriminatory alternative: named when a fairer model ties the best,
and not when none does (planted leaderboards)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scorelab.report.sections.verdict import choose_alternative, ratio_text


def _board(rows: list[tuple]) -> pd.DataFrame:
    """(model, auc, significant_vs_best, worst ratio, young/rest ratio, expected cost)."""
    frame = pd.DataFrame(rows, columns=["model", "auc", "significant_vs_best",
                                        "worst_approval_ratio", "age_approval_ratio",
                                        "expected_cost"]).set_index("model")
    frame["p_vs_best_holm"] = np.where(frame["significant_vs_best"], 0.01, 0.18)
    return frame


BEST = ("hces_bag", 0.790, False, 0.51, 0.59, 0.50)


def test_a_fairer_model_that_ties_the_best_is_named() -> None:
    board = _board([BEST, ("lightgbm", 0.788, False, 0.55, 0.58, 0.51),  # young worse
                    ("expert_boost", 0.781, False, 0.69, 0.76, 0.52),
                    ("scorecard", 0.779, False, 0.65, 0.70, 0.53)])
    alt = choose_alternative(board, direct=set())
    assert alt is not None and alt.model == "expert_boost"  # the highest worst ratio
    assert (alt.best, alt.worst_ratio, alt.worst_ratio_best) == ("hces_bag", 0.69, 0.51)
    assert alt.auc_best - alt.auc == pytest.approx(0.009)
    assert alt.cost - alt.cost_best == pytest.approx(0.02)


def test_none_when_the_fairer_models_are_less_accurate_or_use_age() -> None:
    board = _board([BEST, ("sesame", 0.700, True, 0.90, 0.95, 0.70),  # significantly worse
                    ("age_thresholds", 0.785, False, 0.80, 1.02, 0.51),  # uses age
                    ("lightgbm", 0.788, False, 0.55, 0.58, 0.51)])  # young/rest worse
    assert choose_alternative(board, direct={"age_thresholds"}) is None
    assert choose_alternative(board, direct=set()).model == "age_thresholds"


def test_the_best_model_alone_has_no_alternative() -> None:
    assert choose_alternative(_board([BEST]), direct=set()) is None


def test_a_ratio_never_rounds_across_the_screen() -> None:
    assert ratio_text(0.7996, 0.8) == "0.800"  # below: not "0.80", which reads as a pass
    assert ratio_text(0.7949, 0.8) == "0.79"
    assert ratio_text(0.8004, 0.8) == "0.80"
    assert ratio_text(float("nan"), 0.8) == "-"
