"""Adverse-action reasons for new applicants scored by a saved final model.

The same rules as the study's (:mod:`scorelab.explain.adverse`), with the reference
taken from the run's own citizens: the best term any citizen attains (expert rules,
scorecards) or the mean SHAP value of the citizens the final model approves among the
background rows (other families). Declined applicants only; barred inputs never.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorelab.explain.adverse import (
    ADDITIVE_KINDS,
    RankedReasons,
    additive_terms,
    approved_reference,
    rank_reasons,
    reason_method,
    reason_reference,
)
from scorelab.explain.catalogue import Catalogue
from scorelab.explain.explainers import Explanation, explainer_kind

__all__ = ["ApplicantReasons", "applicant_reasons"]


@dataclass
class ApplicantReasons:
    """What ranks a final model's reasons: its method, reference and barred inputs."""

    kind: str
    method: str
    reference: np.ndarray  # per input: best attainable term, or approved mean SHAP
    columns: list[str]
    barred: np.ndarray
    catalogue: Catalogue
    k: int

    @property
    def reference_words(self) -> str:
        return reason_reference(self.kind)

    def gaps(self, model: Any, X: pd.DataFrame, explanation: Explanation
             ) -> tuple[np.ndarray, np.ndarray]:
        """(gap, shap): each input's log-odds against the reference (the ranking value:
        positive raised the risk) and its SHAP value, ``(len(X), inputs)``."""
        shap = pd.DataFrame(explanation.values, columns=explanation.columns)[self.columns] \
            .to_numpy(dtype=float)
        gap = (additive_terms(model, X) - self.reference if self.kind in ADDITIVE_KINDS
               else shap - self.reference)
        return gap, shap

    def both_sides(self, model: Any, X: pd.DataFrame, explanation: Explanation
                   ) -> tuple[RankedReasons, RankedReasons]:
        """Every applicant's reasons (what raised the risk most against the reference)
        and the inputs in their favour (what lowered it most), ranked the same way,
        whatever the decision (a letter's two lists)."""
        gap, shap = self.gaps(model, X, explanation)
        everyone = np.ones(len(X), dtype=bool)
        return (rank_reasons(gap, shap, everyone, self.barred, self.k),
                rank_reasons(-gap, -shap, everyone, self.barred, self.k))

    def rank(self, model: Any, X: pd.DataFrame, explanation: Explanation,
             approved: np.ndarray) -> dict[str, np.ndarray]:
        """Columns reason_j (input), reason_j_code, reason_j_text, reason_j_points (score
        points lost, negative) for j = 1..k; empty for approved applicants."""
        gap, shap = self.gaps(model, X, explanation)
        ranked = rank_reasons(gap, shap, ~np.asarray(approved, dtype=bool), self.barred,
                              self.k)
        names = np.asarray(self.columns + [None], dtype=object)
        codes = np.asarray([self.catalogue[c].code for c in self.columns] + [None],
                           dtype=object)
        texts = np.asarray([self.catalogue[c].text for c in self.columns] + [None],
                           dtype=object)
        out: dict[str, np.ndarray] = {}
        for j in range(self.k):
            idx = ranked.index[:, j] if j < ranked.index.shape[1] else np.full(len(X), -1)
            out[f"reason_{j + 1}"] = names[idx]
            out[f"reason_{j + 1}_code"] = codes[idx]
            out[f"reason_{j + 1}_text"] = texts[idx]
            out[f"reason_{j + 1}_gap"] = (ranked.gap[:, j] if j < ranked.gap.shape[1]
                                          else np.full(len(X), np.nan))
        return out


def applicant_reasons(model: Any, population: pd.DataFrame, background: Explanation,
                      background_approved: np.ndarray, catalogue: Catalogue,
                      barred: Sequence[str], k: int = 4) -> ApplicantReasons:
    """The ranking of ``model``'s reasons, its reference computed once from the run's
    citizens (``population``: their input columns) and the explained background rows."""
    kind = explainer_kind(model)
    columns = [str(c) for c in population.columns]
    if kind in ADDITIVE_KINDS:
        reference = additive_terms(model, population).min(axis=0)
    else:
        shap = pd.DataFrame(background.values, columns=background.columns)[columns]
        reference = approved_reference(shap.to_numpy(dtype=float), background_approved)
    return ApplicantReasons(kind, reason_method(kind), reference, columns,
                            np.array([c in set(barred) for c in columns]), catalogue, k)
