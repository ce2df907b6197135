"""Policy flags: prohibited/protected inputs used directly or by SHAP weight; features
named like protected attributes."""

from __future__ import annotations

from scorelab.config import PROHIBITED_BY_POLICY
from scorelab.fairness.policy import looks_protected, policy_checks


def test_prohibited_input_used_by_a_family_is_flagged():
    flags = policy_checks({"expert": ["income", "family_score"], "clean": ["income"]}, None,
                          PROHIBITED_BY_POLICY, ["age", "sex"], 0.02)
    assert len(flags) == 1
    flag = flags[0]
    assert (flag["check"], flag["model"], flag["column"], flag["category"]) == \
        ("direct_input", "expert", "family_score", "prohibited")


def test_shap_weight_above_threshold_is_flagged_with_its_share():
    importance = {"m": {"income": 0.9, "friends_avg_score": 0.07, "health_events": 0.01}}
    flags = policy_checks({"m": ["income"]}, importance, PROHIBITED_BY_POLICY, ["age"], 0.02)
    assert [(f["check"], f["column"]) for f in flags] == [("shap_weight",
                                                           "friends_avg_score")]
    assert flags[0]["share"] == 0.07


def test_protected_direct_input_and_feature_names():
    flags = policy_checks({"m": ["age", "income"]}, None, [], ["age", "sex"], 0.02,
                          feature_columns=["gender", "foreign_worker", "mileage", "usage",
                                           "income"])
    kinds = {(f["check"], f["column"]) for f in flags}
    assert ("direct_input", "age") in kinds
    assert ("feature_named_protected", "gender") in kinds
    assert ("feature_named_protected", "foreign_worker") in kinds
    assert not any(c in ("mileage", "usage", "income") for _, c in kinds
                   if _ == "feature_named_protected")
    assert looks_protected("personal_status_sex") == "sex"
    assert looks_protected("credit_history_years") is None
