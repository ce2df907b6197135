"""The checks of one decomposition against the planted truth, without a study."""

from __future__ import annotations

from scorelab.truth.planted import _decomposition_checks

TRUTH = {"history_years": 0.0, "employment_years": 0.0, "thin_file_drop": 0.0,
         "risk_shift_logit": -0.3, "label_gap_logit": 0.0, "label_bias_on": False,
         "label_on_age": False, "label_group": "minority = minority"}


def _twin_row(part: float, beyond: list[float], use: str = "ignores"):
    d = {"slope_points_per_logit": -40.0, "missed_risk_points": 11.8,
         "response_beyond_true_risk": part, "response_beyond_missed": part - 11.8,
         "label_bias": 0.0, "true_risk": -12.0, "residual": 0.0,
         "intervals": {"response_beyond_true_risk": [part - 0.5, part + 0.5],
                       "response_beyond_missed": beyond, "label_bias": [0.0, 0.0],
                       "true_risk": [-13.0, -11.0], "residual": [-1.0, 1.0]}}
    return _decomposition_checks("s", "m", d, TRUTH, 20.0, use)[0]


def test_a_model_that_ignores_the_path_is_held_to_the_difference_interval():
    # the part's own interval misses the missed risk, the difference's covers zero
    row = _twin_row(12.46, [-0.3, 1.6])
    assert row.passed is True
    assert row.low <= 11.8 <= row.high and row.planted_value == 11.8
    assert "difference" in row.expected
    # a difference whose interval excludes zero is a miss
    assert _twin_row(12.46, [0.2, 1.1]).passed is False


def test_a_model_on_the_path_keeps_the_part_interval():
    row = _twin_row(25.0, [10.0, 16.4], use="path")
    assert (row.low, row.high) == (24.5, 25.5)
    # a missed age difference (no path planted): above zero, starting at most at it
    assert row.passed is False  # 24.5 > 11.8
    assert _twin_row(11.0, [-1.5, -0.1], use="path").passed is True
