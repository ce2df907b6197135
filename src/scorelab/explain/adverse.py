"""Adverse-action reasons: the principal reasons a declined applicant is told.

US Regulation B (12 CFR 1002.9) asks for the specific, principal reasons of a decline,
no more than four. Every family gets them on one scale, the log-odds of default, ranked
by a stated method:

* additive families (expert rules, the logit scorecard): **points below the maximum
  attainable**, ``g_j(x_j) - min_v g_j(v)``: how far the applicant's term for input
  ``j`` is from the best term any applicant of the population attains (a scorecard's
  best bin, a rule's best count), converted to log-odds by the model's own calibration;
* every other family (SHAP): **contribution relative to the approved applicants'
  average**, ``phi_j(x) - mean_{approved} phi_j``.

A reason must be adverse twice over: its gap is positive and its SHAP value raised the
risk (``phi_j > 0``); an input with a zero or favourable contribution is never a reason,
and approved applicants get none. Protected attributes and prohibited inputs are
never given as reasons; when one would rank among the top ``k`` (the ranking with them
left in), the model is flagged (:func:`barred_flags`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["METHOD_APPROVED", "METHOD_POINTS", "RankedReasons", "additive_terms",
           "approved_reference", "barred_flags", "membership", "rank_reasons",
           "reason_method", "reason_reference"]

METHOD_POINTS = "points below the maximum attainable"
METHOD_APPROVED = "contribution relative to the approved applicants' average"
ADDITIVE_KINDS = frozenset({"additive", "linear"})


def reason_method(explainer_kind: str) -> str:
    """The ranking method of a model whose explainer is ``explainer_kind``."""
    return METHOD_POINTS if explainer_kind in ADDITIVE_KINDS else METHOD_APPROVED


def reason_reference(explainer_kind: str) -> str:
    """What a reason's points are measured against, in words for an applicant."""
    return ("the best value of each input" if explainer_kind in ADDITIVE_KINDS
            else "the approved applicants' average")


def additive_terms(model: Any, X: pd.DataFrame) -> np.ndarray:
    """An additive model's log-odds term per input column, ``(len(X), X.shape[1])``.

    Expert rules: calibration slope x rule points; the scorecard: coefficient x WoE.
    Columns without a term (no rule for them) are 0.
    """
    contrib = (model.log_odds_contributions(X) if hasattr(model, "log_odds_contributions")
               else model.contributions(X))
    out = np.zeros((len(X), X.shape[1]))
    pos = {str(c): j for j, c in enumerate(X.columns)}
    for name in contrib.columns:
        if name != "intercept":
            out[:, pos[str(name)]] += contrib[name].to_numpy(dtype=float)
    return out


def approved_reference(shap: np.ndarray, approved: np.ndarray) -> np.ndarray:
    """Mean SHAP value per input over approved applicants (0 where none is approved)."""
    approved = np.asarray(approved, dtype=bool)
    if not approved.any():
        return np.zeros(shap.shape[1])
    return np.asarray(shap, dtype=float)[approved].mean(axis=0)


@dataclass
class RankedReasons:
    """Reasons of ``n`` applicants: ``index[i, r]`` is the input column of applicant
    ``i``'s reason ``r + 1`` (-1: none), ``gap`` its ranking value (log-odds), ``shap``
    its SHAP value; ``barred_top[i, j]`` says barred column ``j`` would have ranked
    among the top ``k`` had it been allowed."""

    index: np.ndarray
    gap: np.ndarray
    shap: np.ndarray
    barred_top: np.ndarray

    @property
    def count(self) -> np.ndarray:
        return (self.index >= 0).sum(axis=1)


def _top(score: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = min(k, score.shape[1])
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(score, order, axis=1)
    return np.where(np.isfinite(top), order, -1), top


def rank_reasons(gap: np.ndarray, shap: np.ndarray, declined: np.ndarray,
                 barred: np.ndarray, k: int = 4) -> RankedReasons:
    """Up to ``k`` reasons per declined applicant, by ``gap`` (vectorised).

    ``gap`` and ``shap`` are ``(n, m)`` log-odds per input; ``declined`` ``(n,)``;
    ``barred`` ``(m,)`` marks protected and prohibited inputs.
    """
    gap = np.asarray(gap, dtype=float)
    shap = np.asarray(shap, dtype=float)
    declined = np.asarray(declined, dtype=bool)
    barred = np.asarray(barred, dtype=bool)
    adverse = (gap > 0) & (shap > 0) & declined[:, None]
    index, top = _top(np.where(adverse & ~barred[None, :], gap, -np.inf), k)
    rows = np.arange(len(gap))[:, None]
    safe = np.maximum(index, 0)
    chosen_gap = np.where(index >= 0, top, np.nan)
    chosen_shap = np.where(index >= 0, shap[rows, safe], np.nan)
    all_index, _ = _top(np.where(adverse, gap, -np.inf), k)
    barred_top = np.zeros(gap.shape, dtype=bool)
    hit = (all_index >= 0) & barred[np.maximum(all_index, 0)]
    barred_top[np.repeat(np.arange(len(gap)), hit.sum(axis=1)), all_index[hit]] = True
    return RankedReasons(index, chosen_gap, chosen_shap, barred_top)


def barred_flags(model: str, ranked: RankedReasons, columns: Sequence[str],
                 category: dict[str, str], k: int) -> list[dict[str, Any]]:
    """Policy flags (the policy checks' format) for barred inputs that would rank among
    the top ``k`` reasons of at least one declined applicant."""
    declined = int((ranked.barred_top.any(axis=1) | (ranked.index >= 0).any(axis=1)).sum())
    flags = []
    for j in np.flatnonzero(ranked.barred_top.any(axis=0)):
        col = str(columns[j])
        n = int(ranked.barred_top[:, j].sum())
        cat = category.get(col, "prohibited")
        flags.append({
            "check": "adverse_reason", "model": model, "column": col, "category": cat,
            "evidence": f"top-{k} reason of {n} declined applicant(s)", "share": None,
            "message": f"model '{model}': the {cat} input '{col}' would rank among the top "
                       f"{k} adverse-action reasons of {n} of {declined} declined "
                       "applicant(s) with reasons; it is never given as a reason"})
    return flags


def membership(ranked: RankedReasons, ids: np.ndarray, columns: Sequence[str]
               ) -> pd.DataFrame:
    """Who has which reason: citizen id x input, True where the input is a reason."""
    n, m = len(ids), len(columns)
    member = np.zeros((n, m), dtype=bool)
    rows, ranks = np.nonzero(ranked.index >= 0)
    member[rows, ranked.index[rows, ranks]] = True
    return pd.DataFrame(member, index=pd.Index(ids, name="citizen_id"),
                        columns=[str(c) for c in columns])
