"""Evaluation: accuracy, calibration and decision metrics, bootstrap intervals, and
significance tests for comparing models; the decision policies and their costs.

A stage: imports the foundation, ``config`` (its sections), ``data``, ``runs`` (the
contract) and ``engine``; never another stage, ``truth`` or anything above.
"""

from scorelab.evaluate.compare import compare_to_best, delong_test, friedman_holm, holm
from scorelab.evaluate.metrics import (
    ECE_BINNING,
    approval_metrics,
    auc,
    bootstrap_intervals,
    brier,
    expected_calibration_error,
    gini,
    h_measure,
    ks,
    log_loss,
    metric_table,
    partial_gini,
)

__all__ = [
    "ECE_BINNING",
    "approval_metrics",
    "auc",
    "bootstrap_intervals",
    "brier",
    "compare_to_best",
    "delong_test",
    "expected_calibration_error",
    "friedman_holm",
    "gini",
    "h_measure",
    "holm",
    "ks",
    "log_loss",
    "metric_table",
    "partial_gini",
]
