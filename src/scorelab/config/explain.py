"""``explain``: SHAP explanations, and adverse-action reasons with their catalogue."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from scorelab.config.base import _Section
from scorelab.core.messages import excerpt

__all__ = ["REASON_CATALOGUES_DIR", "AdverseReasons", "Explain", "ReasonEntry",
           "builtin_catalogues"]

#: Built-in adverse-action reason catalogues (package data, one YAML file each).
REASON_CATALOGUES_DIR = Path(__file__).parents[1] / "data" / "reasons"


def builtin_catalogues() -> list[str]:
    """Names of the built-in reason catalogues (``synthetic``, ``german_credit``, ...)."""
    return sorted(p.stem for p in REASON_CATALOGUES_DIR.glob("*.yaml"))


class ReasonEntry(_Section):
    """One input's adverse-action reason: its code, its text and how its value reads."""

    code: str = Field(min_length=1, max_length=20, description="Reason code (unique).")
    text: str = Field(min_length=1, max_length=200,
                      description="Plain-language reason an applicant reads.")
    actionable: bool = Field(False, description="The applicant can change it (a "
                             "counterfactual may suggest it); immutable inputs such as age "
                             "or history length are not.")
    direction: Literal["up", "down"] | None = Field(
        None, description="The only way the applicant can move a number (e.g. 'down' for "
        "debt-to-income: a counterfactual never suggests raising it); none: either way.")
    unit: str = Field("", max_length=60, description="Unit of a number (e.g. 'years').")
    percent: bool = Field(False, description="A share 0-1 shown as a percentage.")
    labels: dict[str, str] = Field(default_factory=dict, description="Words for coded "
                                   "values (value as text -> label).")
    missing: str = Field("not on record", max_length=60, description="Words for a "
                         "missing value.")


class AdverseReasons(_Section):
    """Adverse-action reasons for declined applicants (ECOA / US Regulation B)."""

    enabled: bool = Field(True, description="Give declined applicants of the audit sample "
                          "their principal reasons, a counterfactual and the age rule.")
    max_reasons: int = Field(4, ge=1, le=4, description="Principal reasons per declined "
                             "applicant (Regulation B: no more than four).")
    catalogue: str | dict[str, ReasonEntry] = Field(
        "auto", description="Reason catalogue: 'auto' (the synthetic catalogue on the "
        "synthetic population, none on a table), the name of a built-in catalogue "
        "(synthetic, german_credit) or a mapping column -> {code, text, actionable, unit, "
        "percent, labels, missing}. An input without an entry gets code 'X-<column>', its "
        "name as text, and is not actionable.")
    counterfactuals: bool = Field(True, description="Search the smallest change of "
                                  "actionable inputs that turns each decline.")
    bootstrap_refits: int = Field(0, ge=0, le=20, description="Refits of each exact-"
                                  "explainer model on bootstrap samples of its first fold, "
                                  "to measure how stable the reasons are (Jaccard).")

    @field_validator("catalogue", mode="before")
    @classmethod
    def _entries(cls, value: Any) -> Any:
        """Each entry checked on its own, so a bad one is named by its column."""
        if not isinstance(value, Mapping):
            return value
        entries = {}
        for column, entry in value.items():
            try:
                entries[str(column)] = ReasonEntry.model_validate(entry)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"]) or "entry"
                raise ValueError(f"entry '{excerpt(column)}': {where}: {first['msg']} (an "
                                 "entry needs at least a code and a text)") from None
        return entries

    @field_validator("catalogue")
    @classmethod
    def _known_catalogue(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "auto" and value not in builtin_catalogues():
            raise ValueError(f"catalogue '{excerpt(value)}' is not a built-in catalogue "
                             f"(valid: auto, {', '.join(builtin_catalogues())}, or a mapping "
                             "column -> {code, text})")
        if isinstance(value, Mapping):
            seen: dict[str, str] = {}
            for column, entry in value.items():
                if entry.code in seen:
                    raise ValueError(f"reason code '{excerpt(entry.code)}' is given to both "
                                     f"'{seen[entry.code]}' and '{column}'; codes must be "
                                     "unique")
                seen[entry.code] = column
        return value


class Explain(_Section):
    """SHAP explanations of every family."""

    enabled: bool = Field(True, description="Compute explanations.")
    sample_size: int = Field(
        2000, ge=1, le=1_000_000,
        description="Citizens explained by the exact explainers (audit sample)."
    )
    agnostic_sample_size: int = Field(
        300, ge=1, le=100_000,
        description="Citizens of the audit sample also explained by the model-agnostic "
        "explainer (neural and hybrid families); a nested subsample, the same for every "
        "family.",
    )
    background_size: int = Field(50, ge=1, le=10_000,
                                 description="Background sample for agnostic SHAP.")
    max_evals: int = Field(
        200, ge=10, le=100_000,
        description="Masked evaluations per citizen (agnostic explainer); each "
        "evaluation scores background_size rows."
    )
    reasons: AdverseReasons = Field(
        default_factory=AdverseReasons, description="Adverse-action reasons, "
        "counterfactuals and the age rule of lending law.")
