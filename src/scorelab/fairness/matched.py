"""Fairness at a matched approval rate: every model approves the same share.

At one fixed cut-off a model that approves 2% and one that approves 44% cannot be
compared on approval-rate ratios: the four-fifths rule mostly measures how strict each
one is. Here each model approves exactly the matched share of citizens (its best
scores; ties at the margin broken by a seeded draw, :func:`scorelab.core.scale.approve_share`),
and the audit's group metrics and disparities
(:mod:`scorelab.fairness.groups`) are computed again on those decisions. Point
estimates, with the two-proportion test of the worst ratio's lowest against highest
group (``p_value``: is the gap more than chance at this sample size?); the bootstrap
intervals are the main audit's, at the run's own policy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import Fairness
from scorelab.core.ages import AgeSpec
from scorelab.core.jsonable import jsonable
from scorelab.core.scale import approve_share
from scorelab.fairness.groups import disparities, group_metrics

__all__ = ["matched_rate_fairness"]

_KEPT = ("attribute", "lowest_group", "highest_group", "approval_low", "approval_high",
         "worst_approval_ratio", "p_value_approval", "four_fifths_verdict",
         "equalized_odds_difference")


def matched_rate_fairness(frame: pd.DataFrame, predictions: pd.DataFrame, rate: float, *,
                          fairness: Fairness, age: AgeSpec, seed: int
                          ) -> tuple[dict[str, Any], pd.DataFrame]:
    """The observed-outcome disparities of every model when each approves ``rate``.

    ``frame`` is the population with a ``defaulted`` column; ``predictions`` the first
    repeat's (citizen_id, model, p_default, score). Returns the JSON-ready entry of
    fairness.json (``matched_rate``) and the leaderboard columns
    (worst_approval_ratio_matched, four_fifths_verdict_matched).
    """
    fair = fairness.model_copy(update={"bootstrap": 0})
    ids = frame["citizen_id"].to_numpy()
    y = frame["defaulted"].to_numpy()
    models: dict[str, Any] = {}
    board = []
    for model, part in predictions.groupby(predictions["model"].astype(str), sort=False):
        part = part.set_index("citizen_id").reindex(ids)
        p = part["p_default"].to_numpy(dtype=float)
        points = part["score"].to_numpy(dtype=float)
        approved, cutoff = approve_share(points, rate, seed)
        table = group_metrics(y, None, p, points, approved, frame, fair, seed,
                              age_column=age.column)
        disp = disparities(table, fair.four_fifths)
        obs = disp[disp["outcome"] == "observed"]
        ratios = obs["worst_approval_ratio"].to_numpy(dtype=float)
        worst = float(np.nanmin(ratios)) if np.isfinite(ratios).any() else np.nan
        p_value = (float(obs["p_value_approval"].to_numpy(dtype=float)[np.nanargmin(ratios)])
                   if np.isfinite(ratios).any() else np.nan)
        verdict = ("fail" if (obs["four_fifths_verdict"] == "fail").any() else
                   "pass" if len(obs) and np.isfinite(worst) else "not assessed")
        models[model] = {"cutoff_score": cutoff, "approval_rate": float(approved.mean()),
                         "worst_approval_ratio": worst, "p_value": p_value,
                         "four_fifths_verdict": verdict,
                         "disparities": obs[[c for c in _KEPT if c in obs]]}
        board.append({"model": model, "worst_approval_ratio_matched": worst,
                      "four_fifths_verdict_matched": verdict})
    entry = {"approval_rate": rate, "four_fifths": fair.four_fifths,
             "note": "every model approves the same share; point estimates, observed "
                     "outcome; p_value: two-proportion test of the worst ratio's lowest "
                     "against highest group (nominal)", "models": models}
    return jsonable(entry), pd.DataFrame(board)
