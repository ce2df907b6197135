"""Fairness and age: group metrics, the age audit, matched-rate disparities and policy
checks; :func:`fairness_audit` takes a population and any predictions.

A stage: imports the foundation, ``config`` (its sections), ``data``, ``runs`` (the
contract: the audit returns its types) and ``engine``; never another stage or above.
"""

from scorelab.fairness.age import (
    age_gap_decomposition,
    cut_point_sweep,
    proxy_audit,
    score_by_age,
    shap_by_age_band,
    twin_effects,
)
from scorelab.fairness.audit import fairness_audit
from scorelab.fairness.groups import disparities, group_metrics
from scorelab.fairness.policy import policy_checks

__all__ = ["age_gap_decomposition", "cut_point_sweep", "disparities", "fairness_audit",
           "group_metrics", "policy_checks", "proxy_audit", "score_by_age",
           "shap_by_age_band", "twin_effects"]
