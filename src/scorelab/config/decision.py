"""``decision`` and ``scale``: how a probability becomes points, and points a decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from scorelab.config.base import _Section, cross_error
from scorelab.core.messages import excerpt

__all__ = ["Decision", "DecisionCosts", "Scale"]


class DecisionCosts(_Section):
    """What a wrong decision costs (a right one costs nothing)."""

    false_accept: float = Field(gt=0.0, le=1e6, description="Cost of approving a defaulter.")
    false_reject: float = Field(gt=0.0, le=1e6, description="Cost of rejecting a good payer.")


class Decision(_Section):
    """How a score becomes an approval."""

    cutoff_score: float | None = Field(
        600.0, description="Approve citizens whose score is at least this (score scale)."
    )
    target_approval_rate: float | None = Field(
        None, gt=0.0, lt=1.0, description="Alternative to the cut-off: approve this share "
        "(then cutoff_score must be null or absent)."
    )
    policy: Literal["cutoff", "approval_rate", "cost"] | None = Field(
        None, description="Which rule decides the run's approvals: cutoff (cutoff_score), "
        "approval_rate (target_approval_rate) or cost (each fold's cost-minimising cut-off, "
        "chosen on its training citizens; needs costs). null: approval_rate when "
        "target_approval_rate is set, else cutoff. The other rules are reported beside it."
    )
    costs: DecisionCosts | None = Field(
        None, description="Misclassification costs, e.g. {false_accept: 5, false_reject: 1} "
        "(German credit's matrix): expected cost per applicant, the cost curve and the "
        "cost-minimising cut-offs are reported when set."
    )
    matched_approval_rate: float | None = Field(
        None, gt=0.0, lt=1.0, description="The share every model approves in the matched "
        "comparison (like-with-like fairness); null: target_approval_rate when set, else "
        "the observed share of good payers."
    )

    @model_validator(mode="before")
    @classmethod
    def _one_rule(cls, data: Any) -> Any:
        """One rule, never both (which would win was a silent guess); a target rate given
        alone replaces the default cut-off."""
        if isinstance(data, Mapping) and data.get("target_approval_rate") is not None:
            if data.get("cutoff_score") is not None:
                raise cross_error(
                    f"decision: cutoff_score ({excerpt(data['cutoff_score'])}) and "
                    f"target_approval_rate ({excerpt(data['target_approval_rate'])}) are "
                    "both set; give one rule and set the other to null")
            data = {**data, "cutoff_score": None}
        return data

    @model_validator(mode="after")
    def _policy_has_its_rule(self) -> Decision:
        """The chosen policy has what it needs, and no rule of another policy is set."""
        if self.policy == "cost" and self.costs is None:
            raise cross_error("decision.policy: cost needs decision.costs, e.g. "
                               "{false_accept: 5, false_reject: 1} (the cost of approving a "
                               "defaulter and of rejecting a good payer)")
        if self.policy == "approval_rate" and self.target_approval_rate is None:
            raise cross_error("decision.policy: approval_rate needs "
                               "decision.target_approval_rate (the share to approve, e.g. 0.7)")
        if self.policy in ("cutoff", "cost") and self.target_approval_rate is not None:
            raise cross_error(f"decision.policy: {self.policy} does not use "
                               f"target_approval_rate ({self.target_approval_rate:g}); set "
                               "policy: approval_rate, or remove target_approval_rate")
        return self


class Scale(_Section):
    """Probability -> points -> category."""

    preset: Literal["sesame", "suining"] = Field(
        "sesame", description="Score range and bands: sesame 350-950, suining 0-1000+ (A-D)."
    )
    pdo: float | None = Field(
        None, gt=0.0, description="Points to double the odds (good:bad); null = the preset's."
    )
    base_score: float | None = Field(
        None, description="Score at the base odds; null = the preset's."
    )
    base_odds: float | None = Field(
        None, gt=0.0, description="Good:bad odds that earn the base score; null = the preset's."
    )
