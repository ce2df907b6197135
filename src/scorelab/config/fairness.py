"""``fairness``: the group audit, the age analyses and the policy checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from scorelab.config.base import _Section
from scorelab.config.population import MAX_AGE, MIN_AGE, SYNTHETIC_PROTECTED

__all__ = ["DERIVED_FAIRNESS", "PROHIBITED_BY_POLICY", "Fairness", "ProtectedName"]

ProtectedName = Literal["age", "sex", "minority", "region"]

PROHIBITED_BY_POLICY = ["family_score", "friends_avg_score", "health_events",
                        "situational_events"]


class Fairness(_Section):
    """Group fairness and the age audit."""

    enabled: bool = Field(True, description="Compute fairness metrics.")
    attributes: list[str] = Field(
        default_factory=lambda: list(SYNTHETIC_PROTECTED),
        description="Protected attributes to audit (the age attribute is cut into "
        "age_bands). Default: every protected attribute of the population (synthetic: "
        "age, sex, minority, region; a table: the columns of population.protected). Each "
        "must be one of them.",
    )
    intersections: list[list[str]] = Field(
        default_factory=lambda: [["age", "sex"]],
        description="Groups of two or more attributes audited jointly, e.g. [[age, sex]]. "
        "Default: [[age, sex]] on the synthetic population, none on a table.",
    )
    missing_protected: Literal["group", "drop", "error"] = Field(
        "group",
        description="Citizens with a missing value of an audited attribute: group (they "
        "form the group 'missing', reported and suppressed like any small group), drop "
        "(left out of that attribute's groups and of the age analyses; still scored) or "
        "error (the run stops before any fitting, naming the column and rows).",
    )
    reference_groups: dict[str, str] = Field(
        default_factory=dict,
        description="Reference group per attribute for differences and ratios "
        "(default: the largest group).",
    )
    age_bands: list[float] = Field(
        default_factory=lambda: [18, 26, 36, 51, 62],
        description="Lower edges of the age bands (default 18-25, 26-35, 36-50, 51-61, 62+: the "
        "last band starts at Regulation B's 62, the age the age rule tests).",
    )
    min_group_size: int = Field(50, ge=1, description="Smaller groups are suppressed.")
    four_fifths: float = Field(
        0.8, gt=0.0, le=1.0, description="Approval-rate ratio below which a group fails."
    )
    bootstrap: int = Field(
        200, ge=0, le=100_000, description="Bootstrap replicates for group-metric intervals."
    )
    cut_sweep: list[int] = Field(
        default_factory=lambda: [21, 35],
        description="First and last age cut of the young-vs-rest sweep (inclusive).",
    )
    twin_age_shift: float = Field(
        20.0, description="Years added to each audited citizen's age in the counterfactual "
        "twins (ages are clipped to 18-80).",
    )
    label_bias_refit: bool = Field(
        False, description="Synthetic populations: re-train every model on the true outcome "
        "(same folds) to measure how much label bias reaches its scores (doubles the fold "
        "fits when recorded and true outcomes differ). Off: the age-gap label part is the "
        "gap in the labels' default-rate log-odds, which the scores carry only as far as a "
        "model can see age.",
    )
    prohibited: list[str] = Field(
        default_factory=lambda: list(PROHIBITED_BY_POLICY),
        description="Inputs that must not count (suggestions 2, 4, 5, 6); protected "
        "attributes are always prohibited as direct inputs.",
    )
    shap_threshold: float = Field(
        0.02, ge=0.0, le=1.0,
        description="A prohibited input whose share of a family's mean |SHAP| exceeds this "
        "is flagged.",
    )

    @field_validator("age_bands")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError("age_bands must be at least two strictly increasing ages")
        if not (MIN_AGE <= edges[0] and edges[-1] <= MAX_AGE):
            raise ValueError(f"age_bands must be ages from {MIN_AGE} to {MAX_AGE}; got "
                             f"{edges[0]:g} to {edges[-1]:g}")
        return edges

    @field_validator("cut_sweep")
    @classmethod
    def _sweep(cls, cuts: list[int]) -> list[int]:
        if len(cuts) != 2 or not 18 < cuts[0] <= cuts[1] < 80:
            raise ValueError("cut_sweep must be [first, last] ages with 18 < first <= last < 80")
        return cuts


#: Fairness keys whose default depends on the population (a table: its own columns).
DERIVED_FAIRNESS: dict[str, Any] = {
    "attributes": lambda population: list(population.protected),
    "intersections": lambda population: [],
}
