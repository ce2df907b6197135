"""Explanations: SHAP per family on the log-odds scale, importances, reason codes,
adverse-action reasons and recourse.

A stage: imports the foundation, ``models``, ``config`` (its sections), ``data``,
``runs`` (the contract) and ``engine``; never another stage or anything above.
"""

from scorelab.explain.explainers import (
    SCALE,
    Explanation,
    background_sample,
    explain,
    explainer_kind,
    log_odds,
)
from scorelab.explain.importance import (
    SOURCE_ORDER,
    agreement,
    explanations_table,
    global_importance,
    true_drivers,
)
from scorelab.explain.reasons import Reason, letter, points_of

__all__ = [
    "SCALE",
    "SOURCE_ORDER",
    "Explanation",
    "Reason",
    "agreement",
    "background_sample",
    "explain",
    "explainer_kind",
    "explanations_table",
    "global_importance",
    "letter",
    "log_odds",
    "points_of",
    "true_drivers",
]
