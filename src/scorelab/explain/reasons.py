"""Reason codes and the citizen's letter, the same for every family.

Sign convention (every family): a positive SHAP value raised the risk (log-odds of
default), which lowered the score; a negative one lowered the risk and raised the score.
Wording: ``"late_payments = 4 (business data) raised the risk by 0.62 log-odds"``.

``reason_codes`` returns (JSON-ready)::

    {"citizen_id", "model", "family", "method", "scale", "base_value", "output",
     "raised":  [{"feature", "source", "value", "shap", "text"}, ...],   (top k, shap > 0)
     "lowered": [{"feature", "source", "value", "shap", "text"}, ...]}   (top k, shap < 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scorelab.data.schema import SOURCES
from scorelab.explain.explainers import SCALE

__all__ = ["letter", "reason_codes", "reason_text"]


def _source_words(source: str) -> str:
    return f"{source} data" if source in SOURCES else source


def reason_text(feature: str, value: str, source: str, shap: float) -> str:
    """One reason in words (the same wording for every family)."""
    verb = "raised" if shap > 0 else "lowered"
    return (f"{feature} = {value} ({_source_words(source)}) {verb} the risk by "
            f"{abs(shap):.2f} log-odds")


def _reasons(rows: pd.DataFrame, k: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shap = rows["shap"].to_numpy(dtype=float)
    order_up = np.argsort(-shap, kind="stable")
    order_down = np.argsort(shap, kind="stable")

    def item(i: int) -> dict[str, Any]:
        r = rows.iloc[i]
        return {"feature": str(r["feature"]), "source": str(r["source"]),
                "value": str(r["value"]), "shap": float(r["shap"]),
                "text": reason_text(str(r["feature"]), str(r["value"]), str(r["source"]),
                                    float(r["shap"]))}

    raised = [item(i) for i in order_up[:k] if shap[i] > 0]
    lowered = [item(i) for i in order_down[:k] if shap[i] < 0]
    return raised, lowered


def _one(table: pd.DataFrame, citizen_id: Any, model: str | None) -> pd.DataFrame:
    rows = table[table["citizen_id"] == citizen_id]
    if model is not None:
        rows = rows[rows["model"].astype(str) == str(model)]
    if rows.empty:
        raise KeyError(f"no explanation for citizen {citizen_id!r} and model {model!r}")
    if rows["model"].astype(str).nunique() > 1:
        raise ValueError(f"citizen {citizen_id!r} has explanations from several models "
                         f"({sorted(rows['model'].astype(str).unique())}); name one")
    return rows


def reason_codes(table: pd.DataFrame, citizen_id: Any, model: str | None = None,
                 k: int = 3) -> dict[str, Any]:
    """The ``k`` features that raised the citizen's risk most and the ``k`` that lowered
    it most, for one model (format: module docstring)."""
    rows = _one(table, citizen_id, model)
    raised, lowered = _reasons(rows, k)
    first = rows.iloc[0]
    return {"citizen_id": first["citizen_id"].item() if hasattr(first["citizen_id"], "item")
            else first["citizen_id"],
            "model": str(first["model"]), "family": str(first["family"]),
            "method": str(first["method"]), "scale": SCALE,
            "base_value": float(first["base_value"]), "output": float(first["output"]),
            "raised": raised, "lowered": lowered}


def letter(rows: pd.DataFrame, *, score: float, category: str, approved: bool,
           cutoff: float, model: str, citizen_id: Any = None, k: int = 3) -> str:
    """A short plain-text letter to one citizen about one model's decision.

    ``rows`` are the citizen's rows of the explanations table for that model (the other
    inputs are plain values, e.g. read from a run directory's predictions). The letter
    states the score, category and decision with its cut-off, the reasons that lowered
    and raised the score with their data sources, and which data sources (and which of
    their items) were used to compute the score at all (the paper's suggestion 1).
    """
    rows = rows[rows["model"].astype(str) == str(model)] if "model" in rows else rows
    if rows.empty:
        raise ValueError(f"letter: no explanation rows for model {model!r}")
    if citizen_id is None:
        citizen_id = rows["citizen_id"].iloc[0]
    raised, lowered = _reasons(rows, k)
    decision = "APPROVED" if approved else "NOT APPROVED"
    relation = "at or above" if approved else "below"
    lines = [
        f"Your credit score (citizen {citizen_id}, model '{model}')",
        "",
        f"Score: {score:.0f}    Category: {category}",
        f"Decision: {decision}: your score is {relation} the cut-off of {cutoff:.0f}.",
        "",
        "What lowered your score most (raised the estimated risk of default):",
    ]
    lines += [f"  - {r['text']}" for r in raised] or ["  - nothing"]
    lines += ["", "What raised your score most (lowered the estimated risk of default):"]
    lines += [f"  - {r['text']}" for r in lowered] or ["  - nothing"]
    lines += ["", "Personal data used to compute your score, by source (database):"]
    used = rows.drop_duplicates("feature")
    for source in [*SOURCES, *sorted(set(used["source"].astype(str)) - set(SOURCES))]:
        feats = used.loc[used["source"].astype(str) == source, "feature"].astype(str).tolist()
        if feats:
            lines.append(f"  - {_source_words(source)}: {', '.join(feats)}")
    unused = [s for s in SOURCES if s not in set(used["source"].astype(str))]
    if unused:
        lines.append(f"  Not used: {', '.join(unused)} data.")
    lines += ["", f"Amounts are changes in the {SCALE} relative to an average citizen "
              f"({rows['method'].iloc[0]})."]
    return "\n".join(lines) + "\n"
