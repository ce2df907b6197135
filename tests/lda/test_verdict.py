"""The search's one decision rule (no training): adopt / consider / none from the
chosen candidate's simultaneous bound and its truth check, the numbers in every
sentence, the Bonferroni bounds, and what a candidate changed in words."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scorelab.config import ModelSpec
from scorelab.exceptions import ConfigError
from scorelab.lda.search import check_request
from scorelab.lda.verdict import changes, overall, simultaneous_bounds, verdict_of
from tests.lda.conftest import scenario

ROW = {"candidate": "c003_scorecard", "disparity": 0.173, "auc_loss": 0.0041,
       "reduction_low": -0.0197}


def _truth(holds: bool, **failed: bool) -> dict[str, Any]:
    parts = {"reduction_holds": True, "accuracy_holds": True, "good_payers_hold": True,
             **failed}
    return {"holds": holds, "reduction": 0.177, "reduction_interval": [0.12, 0.23],
            "auc_true_loss": 0.0062, **parts}


@pytest.mark.parametrize(("bound", "truth", "decision"), [
    (0.05, _truth(True), "adopt"),
    (0.05, None, "adopt"),  # no check was possible: the bound decides
    (0.05, _truth(False, reduction_holds=False), "consider"),
    (-0.0197, _truth(True), "consider"),  # the case of issue 29: no longer "no" and "holds"
    (-0.0197, _truth(False, accuracy_holds=False), "none"),
    (-0.0197, None, "none"),
])
def test_one_decision_from_the_bound_and_the_check(bound: float, truth: dict[str, Any] | None,
                                                   decision: str) -> None:
    v = verdict_of(0.005, {**ROW, "reduction_low": bound}, 0.35, 5, 16, truth,
                   "a fresh population")
    assert v["decision"] == decision
    assert v["bound"] == bound and v["auc_loss"] == ROW["auc_loss"]
    assert v["reduction"] == pytest.approx(0.35 - 0.173)
    said = v["statement"]
    assert said.startswith(f"At an AUC tolerance of 0.005: {decision}; c003_scorecard")
    assert f"{bound:+.4f}" in said and "+0.0041" in said  # the table's bound and loss
    assert ("<= 0" in said) == (bound <= 0)
    if truth is not None:
        assert "a fresh population" in said and "+0.0062" in said
    if truth is not None and not truth["accuracy_holds"]:
        assert "significantly above 0.005" in said


def test_no_serving_candidate_is_none_with_the_counts() -> None:
    v = verdict_of(0.01, None, 0.35, 0, 16)
    assert v["decision"] == "none" and v["candidate"] is None and v["bound"] is None
    assert "0 of 16 serve the need" in v["statement"] and "0.350" in v["statement"]


def test_the_overall_verdict_is_the_best_decision_at_the_smallest_tolerance() -> None:
    none = verdict_of(0.005, None, 0.3, 0, 4)
    consider = verdict_of(0.01, {**ROW, "reduction_low": -0.01}, 0.3, 2, 4, _truth(True))
    adopt = verdict_of(0.02, {**ROW, "reduction_low": 0.01}, 0.3, 3, 4, _truth(True))
    assert overall([none, consider, adopt])["decision"] == "adopt"
    assert overall([none, consider])["tolerance"] == 0.01
    assert overall([none])["decision"] == "none"


def test_bounds_are_bonferroni_over_every_candidate() -> None:
    reps = np.random.default_rng(0).normal(size=(4000, 8))
    low, high = simultaneous_bounds(reps, 0.05)
    np.testing.assert_allclose(low, np.quantile(reps, 0.05 / 8, axis=0))
    np.testing.assert_allclose(high, np.quantile(reps, 1 - 0.05 / 8, axis=0))
    one_low, _ = simultaneous_bounds(reps[:, :1], 0.05)
    assert low[0] < one_low[0]  # more candidates looked at: a wider bound


def test_changes_name_inputs_constraints_family_and_parameters() -> None:
    reference = ModelSpec(family="trees", name="lightgbm", params={"n_estimators": 100})
    scorecard = ModelSpec(family="logit", kind="scorecard", name="scorecard",
                          drop_features=["employment_years", "credit_history_years"])
    assert changes(scorecard, reference) == [
        "dropped employment_years, credit_history_years",
        "family logit/scorecard instead of trees/lightgbm"]
    tree = ModelSpec(family="trees", kind="lightgbm", name="lightgbm",
                     params={"n_estimators": 100, "num_leaves": 7,
                             "monotone_constraints": {"credit_history_years": -1}})
    assert changes(tree, reference) == [
        "monotone constraints credit_history_years decreasing", "parameters num_leaves = 7"]
    same = ModelSpec(family="trees", kind="lightgbm", name="x", params={"n_estimators": 100})
    assert changes(same, reference)[0].startswith("nothing but its training")


def test_a_model_named_like_a_candidate_is_refused_before_any_work() -> None:
    config = scenario("age_proxy", 300, models=[
        {"family": "trees", "name": "c003_lightgbm", "kind": "lightgbm"}])
    with pytest.raises(ConfigError, match=r"models: 'c003_lightgbm' is named like a "
                                          r"candidate of the search .*rename it"):
        check_request(config, None, None)
