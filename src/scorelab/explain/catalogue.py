"""The reason catalogue: each input's adverse-action code, text and value in words.

An applicant reads labels, never codes: ``late_payments = 4`` becomes "4 late payments
in two years", ``checking_status = below_0`` becomes "overdrawn (below 0 DM)". The
catalogue comes from the config (``explain.reasons.catalogue``): a built-in file under
``scorelab/data/reasons/`` or a mapping; an input without an entry still gets a code
(``X-<column>``) and its name as text, so a reason is never dropped for want of words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from scorelab.config import REASON_CATALOGUES_DIR, AdverseReasons, ReasonEntry

__all__ = ["Catalogue", "catalogue_for", "value_in_words"]

Catalogue = dict[str, ReasonEntry]


def _builtin(name: str) -> Catalogue:
    raw = yaml.safe_load((REASON_CATALOGUES_DIR / f"{name}.yaml").read_text())
    return {str(col): ReasonEntry.model_validate(entry) for col, entry in raw.items()}


def catalogue_for(cfg: AdverseReasons, columns: Iterable[str], synthetic: bool) -> Catalogue:
    """The entry of every column in ``columns`` (missing entries filled in)."""
    spec = cfg.catalogue
    if isinstance(spec, Mapping):
        given: Catalogue = dict(spec)
    elif spec == "auto":
        given = _builtin("synthetic") if synthetic else {}
    else:
        given = _builtin(spec)
    out = {}
    for col in columns:
        out[str(col)] = given.get(str(col)) or ReasonEntry(
            code=f"X-{col}"[:20], text=str(col).replace("_", " ").capitalize())
    return out


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def value_in_words(entry: ReasonEntry, value: Any) -> str:
    """How an applicant reads ``value`` (a label, a number with its unit, or 'missing')."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return entry.missing
    key = str(value)
    if isinstance(value, float) and value.is_integer():
        key = str(int(value))
    if key in entry.labels:
        return entry.labels[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return key.replace("_", " ")
    if math.isnan(number):
        return entry.missing
    shown = f"{100 * number:.0f}%" if entry.percent else _number(number)
    return f"{shown} {entry.unit}".strip()
