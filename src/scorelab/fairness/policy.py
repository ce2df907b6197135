"""Policy checks: prohibited and protected inputs, used directly or through SHAP weight.

The paper's suggestions 2, 4, 5 and 6 (neighbours' opinions, situational events,
psychological/health situations, parents' scores) and the protected attributes must not
count. A model is flagged when such a column is one of its inputs, or when its share of
the model's mean |SHAP| exceeds the threshold; a *feature* column whose name looks like a
protected attribute (e.g. ``age``, ``gender``, ``foreign_worker``) is flagged too, since
it would enter every model as an ordinary input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["PROTECTED_NAME_HINTS", "looks_protected", "policy_checks"]

#: Name fragments that mark a protected attribute (matched on whole words of a name).
PROTECTED_NAME_HINTS = ("age", "sex", "gender", "minority", "ethnicity", "ethnic", "race",
                        "religion", "nationality", "foreign_worker", "foreign",
                        "pregnancy", "disability", "birthdate", "dob")


def looks_protected(column: str, protected: Iterable[str] = ()) -> str | None:
    """The protected attribute a column name points to, or None.

    Whole-word matching on the lower-cased name split at non-letters, so ``age``,
    ``age_years``, ``personal_status_sex`` and ``foreign_worker`` match while ``mileage``
    or ``usage`` do not.
    """
    name = str(column).lower()
    words = [w for w in re.split(r"[^a-z]+", name) if w]
    for hint in (*(str(p).lower() for p in protected), *PROTECTED_NAME_HINTS):
        if name == hint or hint in words or ("_" in hint and hint in name):
            return hint
    return None


def policy_checks(model_inputs: Mapping[str, Sequence[str]],
                  importance: Mapping[str, Mapping[str, float]] | None,
                  prohibited: Sequence[str], protected: Sequence[str],
                  threshold: float, feature_columns: Sequence[str] | None = None
                  ) -> list[dict[str, Any]]:
    """Flags, one dict each (JSON-ready).

    Keys: check ("direct_input" | "shap_weight" | "feature_named_protected"), model
    (None for feature checks), column, category ("prohibited" | "protected"), evidence
    (the column, or its SHAP share), share (mean |SHAP| share or None), message.

    ``model_inputs``: model -> its input columns. ``importance``: model -> feature ->
    share of the model's mean |SHAP| (shares of one model sum to 1); None skips the SHAP
    check. ``feature_columns``: the columns the schema marks as features (for the name
    check).
    """
    prohibited_set, protected_set = set(prohibited), set(protected)
    flags: list[dict[str, Any]] = []

    def category(col: str) -> str | None:
        if col in protected_set:
            return "protected"
        if col in prohibited_set:
            return "prohibited"
        return None

    for model, cols in model_inputs.items():
        for col in cols:
            cat = category(col)
            if cat is not None:
                flags.append({"check": "direct_input", "model": str(model), "column": col,
                              "category": cat, "evidence": f"input column '{col}'",
                              "share": None,
                              "message": f"model '{model}' uses the {cat} input '{col}' "
                                         "directly"})
    for model, shares in (importance or {}).items():
        for col, share in shares.items():
            cat = category(col)
            if cat is not None and share is not None and float(share) > threshold:
                flags.append({"check": "shap_weight", "model": str(model), "column": col,
                              "category": cat,
                              "evidence": f"{float(share):.1%} of mean |SHAP|",
                              "share": float(share),
                              "message": f"model '{model}' gives the {cat} input '{col}' "
                                         f"{float(share):.1%} of its mean |SHAP| (threshold "
                                         f"{threshold:.1%})"})
    for col in feature_columns or ():
        hint = looks_protected(col, protected)
        if hint is not None:
            flags.append({"check": "feature_named_protected", "model": None, "column": col,
                          "category": "protected", "evidence": f"name matches '{hint}'",
                          "share": None,
                          "message": f"feature '{col}' looks like the protected attribute "
                                     f"'{hint}' but is marked as a feature"})
    return flags
