"""``evaluation``: the protocol every family is judged under, and nested tuning."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from scorelab.config.base import _Section

__all__ = ["Evaluation", "Tuning"]


class Tuning(_Section):
    """Nested hyper-parameter search: the same budget for every tunable family."""

    budget: int = Field(20, ge=1, le=10_000, description="Candidate configurations "
                        "evaluated per tunable model and outer fold (seeded Optuna TPE).")
    inner_folds: int = Field(3, ge=2, le=20, description="K of the inner stratified folds "
                             "of each outer training fold (the outer test fold is never "
                             "seen by the search).")
    metric: Literal["auc", "brier", "expected_cost"] = Field(
        "auc", description="What the search optimises; expected_cost uses decision.costs "
        "(else the cut-off as the break-even of the costs).")


class Evaluation(_Section):
    """The protocol every family is judged under."""

    folds: int = Field(5, ge=2, le=100, description="K of stratified K-fold.")
    repeats: int = Field(1, ge=1, le=100, description="Repeats of the K-fold split.")
    bootstrap: int = Field(
        200, ge=0, le=100_000, description="Bootstrap replicates for confidence intervals."
    )
    confidence: float = Field(0.95, gt=0.0, lt=1.0, description="Confidence level of intervals.")
    n_jobs: int = Field(2, ge=-1, le=1024,
                        description="Parallel jobs for families and folds (-1 = all).")
    tuning: Tuning | None = Field(
        None, description="Tune every family with a search space on inner folds of each "
        "training fold, with the same budget (null: every family with its fixed "
        "parameters).")
    split: Literal["kfold", "time"] = Field(
        "kfold", description="kfold: stratified folds of all citizens. time: out-of-time "
        "validation: the latest time_test_share of applications (by population.date_column "
        "on a table, application_month on the synthetic population) form one more fold, "
        "scored by models trained on all earlier applications; the earlier ones are "
        "cross-validated in folds as usual.")
    time_test_share: float = Field(
        0.2, gt=0.0, lt=1.0, description="split: time: share of the latest applications "
        "held out as the out-of-time fold.")
