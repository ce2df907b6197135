"""The theoretical frontier: the reference model with group-specific thresholds.

Shifting the protected group's cut-off (here: its log-odds, by ``delta``) while the
overall approval rate stays fixed moves its approval ratio towards parity without
retraining. It marks what disparity is reachable at what accuracy, and is shown for
comparison only: treating applicants of the same risk differently by a protected
attribute is disparate treatment and may itself be unlawful.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scorelab.core.numeric import logit, sigmoid
from scorelab.evaluate.metrics import auc
from scorelab.lda.disparity import approve_share, group_approvals

__all__ = ["group_threshold_point"]


def _air(p: np.ndarray, mask: np.ndarray, rate: float, delta: float) -> tuple[float, np.ndarray]:
    shifted = sigmoid(logit(p) - delta * mask)
    inside, outside = group_approvals(approve_share(shifted, rate), mask)
    with np.errstate(divide="ignore", invalid="ignore"):  # nobody of the rest approved
        return float(inside[0] / outside[0]), shifted


def group_threshold_point(y: np.ndarray, p: np.ndarray, mask: np.ndarray, rate: float,
                          target: float) -> dict[str, Any]:
    """The smallest shift of the protected group's threshold that brings ``|1 - AIR|``
    down to ``target`` (bisection: the AIR grows with the shift), and its AUC."""
    p = np.asarray(p, dtype=float)
    base, _ = _air(p, mask, rate, 0.0)
    direction = 1.0 if base < 1.0 else -1.0
    low, high = 0.0, 8.0
    for _ in range(40):
        mid = (low + high) / 2
        value, _ = _air(p, mask, rate, direction * mid)
        if abs(1.0 - value) <= target or (value - 1.0) * direction > 0:
            high = mid
        else:
            low = mid
    air, shifted = _air(p, mask, rate, direction * high)
    return {"shift_log_odds": direction * high, "air": air, "disparity": abs(1.0 - air),
            "auc": auc(y, shifted), "possibly_unlawful": True}
