"""Disparity of a candidate, measured the way a fair-lending review measures it.

Every candidate approves the same share of citizens as the reference does under the
study's decision rule, so that approval ratios compare like with like (a model that
approves everyone has no disparity and no use). Per protected attribute, one group is
the protected group (the young for the age attribute; for another attribute the group
the reference approves least) and the rest the comparison group:

* adverse impact ratio (AIR): protected approval rate over the comparison group's;
* standardised mean difference (SMD) of the scores (log-odds of repaying), protected
  minus comparison, over their pooled standard deviation;
* false-rejection-rate gap among good payers (true good payers on a synthetic
  population, observed ones on a table): protected minus comparison.

The search's disparity is ``|1 - AIR|`` of its attribute. Intervals come from one set of
bootstrap weights shared by every candidate, so that differences are paired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.numeric import logit

__all__ = ["ProtectedGroups", "approve_share", "bootstrap_weights", "disparity_columns",
           "group_approvals", "protected_groups"]


@dataclass(frozen=True)
class ProtectedGroups:
    """Per attribute, who is in the protected group; ``good`` marks the good payers."""

    masks: dict[str, np.ndarray]
    labels: dict[str, str]
    primary: str
    good: np.ndarray
    rules: dict[str, tuple[str, Any]]

    def member(self, frame: pd.DataFrame, attribute: str | None = None) -> np.ndarray:
        """The protected group of ``attribute`` (default: the search's) in another frame
        (the truth check's fresh population), by the same rule."""
        attribute = attribute or self.primary
        kind, value = self.rules[attribute]
        column = frame[attribute]
        if kind == "below":
            return column.to_numpy(dtype=float) < value
        return (column.astype(str).where(column.notna(), "missing") == value).to_numpy()


def approve_share(p: np.ndarray, rate: float) -> np.ndarray:
    """Approve the ``rate`` share with the lowest P(default), row by row (ties: the
    earlier citizen first, so the count is exact and deterministic)."""
    p = np.atleast_2d(p)
    k = int(round(rate * p.shape[1]))
    order = np.argsort(p, axis=1, kind="stable")
    approved = np.zeros(p.shape, dtype=bool)
    np.put_along_axis(approved, order[:, :k], True, axis=1)
    return approved


def protected_groups(frame: pd.DataFrame, attributes: list[str], primary: str,
                     age_column: str | None, young_below: float, reference_approved: np.ndarray,
                     good: np.ndarray, min_size: int) -> ProtectedGroups:
    """The protected group of each attribute (attributes with no group of ``min_size``
    citizens on each side are left out)."""
    masks, labels, rules = {}, {}, {}
    for attribute in attributes:
        values = frame[attribute]
        if attribute == age_column:
            mask = values.to_numpy(dtype=float) < young_below
            label = f"{attribute} < {young_below:g}"
            rule: tuple[str, Any] = ("below", young_below)
        elif pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
            continue  # a continuous attribute other than age has no natural group
        else:
            text = values.astype(str).where(values.notna(), "missing")
            rates = pd.Series(reference_approved).groupby(text.to_numpy()).agg(["mean", "size"])
            rates = rates[rates["size"] >= min_size]
            if len(rates) < 2:
                continue
            group = str(rates["mean"].idxmin())
            mask = (text == group).to_numpy()
            label = f"{attribute} = {group}"
            rule = ("equals", group)
        if min(mask.sum(), (~mask).sum()) >= min_size or attribute == primary:
            masks[attribute], labels[attribute], rules[attribute] = mask, label, rule
    return ProtectedGroups(masks, labels, primary, np.asarray(good, dtype=bool), rules)


def group_approvals(approved: np.ndarray, mask: np.ndarray,
                    weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Approval rates of the protected group and of the rest, per candidate row of
    ``approved``; with bootstrap ``weights`` (B, n) the result is (B, k)."""
    a = np.atleast_2d(approved).astype(np.float64)
    if weights is None:
        return a[:, mask].mean(axis=1), a[:, ~mask].mean(axis=1)
    w = weights.astype(np.float64)
    inside = (w[:, mask] @ a[:, mask].T) / w[:, mask].sum(axis=1, keepdims=True)
    outside = (w[:, ~mask] @ a[:, ~mask].T) / w[:, ~mask].sum(axis=1, keepdims=True)
    return inside, outside


def bootstrap_weights(n: int, replicates: int, seed: int) -> np.ndarray:
    """Draw counts of ``replicates`` bootstrap samples of ``n`` citizens, (B, n)."""
    rng = np.random.default_rng([seed, 23])
    idx = rng.integers(0, n, size=(replicates, n)) + (np.arange(replicates) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=replicates * n).reshape(replicates, n) \
        .astype(np.int32)


def _smd(score: np.ndarray, mask: np.ndarray) -> np.ndarray:
    inside, outside = score[:, mask], score[:, ~mask]
    pooled = np.sqrt((inside.var(axis=1) + outside.var(axis=1)) / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (inside.mean(axis=1) - outside.mean(axis=1)) / pooled


def disparity_columns(p: np.ndarray, approved: np.ndarray, groups: ProtectedGroups
                      ) -> dict[str, np.ndarray]:
    """AIR, SMD and the false-rejection-rate gap of each attribute, per candidate row."""
    score = -logit(np.atleast_2d(p))  # log-odds of repaying: higher is better
    out: dict[str, np.ndarray] = {}
    for attribute, mask in groups.masks.items():
        inside, outside = group_approvals(approved, mask)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"air_{attribute}"] = inside / outside
        out[f"smd_{attribute}"] = _smd(score, mask)
        good = groups.good
        ins_good, out_good = group_approvals(approved[:, good], mask[good])
        out[f"frr_gap_{attribute}"] = (1.0 - ins_good) - (1.0 - out_good)
    return out
