"""The whole study: every section, and the rules that span sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from scorelab.config.base import MAX_SEED, _Section, cross_error
from scorelab.config.compute import Compute
from scorelab.config.decision import Decision, Scale
from scorelab.config.evaluation import Evaluation
from scorelab.config.explain import Explain
from scorelab.config.fairness import DERIVED_FAIRNESS, Fairness
from scorelab.config.lda import Lda
from scorelab.config.models import ModelSpec
from scorelab.config.output import Output, Report, RunLimits
from scorelab.config.overrides import apply_overrides, validated
from scorelab.config.population import (
    PopulationConfig,
    SyntheticPopulation,
    TablePopulation,
    protected_attributes,
)
from scorelab.core.messages import problems_line
from scorelab.core.scale import scale_from_config
from scorelab.exceptions import DataError

__all__ = ["ExperimentConfig", "age_attribute", "config_from_dict"]


class ExperimentConfig(_Section):
    """A whole study: population, models, protocol, analyses and outputs."""

    schema_version: Literal[1] = Field(1, description="Version of this config schema.")
    name: str = Field(
        "study",
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name of the study (letters, digits, _ . -); used in run directory names.",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of every random draw of the "
                      "study (0 to 2^32 - 1, numpy's range).")
    population: PopulationConfig = Field(
        default_factory=SyntheticPopulation,
        description="The citizens: synthetic (source: synthetic) or a table (source: table).",
    )
    models: list[ModelSpec] = Field(default_factory=list, description="Models to compare.")
    evaluation: Evaluation = Field(default_factory=Evaluation, description="Protocol.")
    explain: Explain = Field(default_factory=Explain, description="Explanations.")
    fairness: Fairness = Field(default_factory=Fairness, description="Fairness audit.")
    decision: Decision = Field(default_factory=Decision, description="Decision rule.")
    scale: Scale = Field(default_factory=Scale, description="Score scale.")
    report: Report = Field(default_factory=Report, description="Report.")
    output: Output = Field(default_factory=Output, description="Output locations.")
    run: RunLimits = Field(default_factory=RunLimits, description="Resource guards of a run.")
    compute: Compute = Field(default_factory=Compute, description="Where the study "
                             "runs: local or on a Dask cluster.")
    lda: Lda = Field(default_factory=Lda, description="The search for less "
                     "discriminatory alternatives (scorelab lda).")

    @model_validator(mode="after")
    def _across_sections(self) -> ExperimentConfig:
        """The rules that span sections, every one checked: a config breaking several
        hears of each in one line (the first MAX_PROBLEMS)."""
        problems = []
        for check in (self._audited_attributes, self._time_split_has_dates,
                      self._on_the_scale):
            try:
                check()
            except PydanticCustomError as exc:
                problems.append(exc.message())
        if problems:
            raise cross_error(problems_line(problems))
        return self

    def _audited_attributes(self) -> ExperimentConfig:
        """A table audits its own protected columns by default, and never one it lacks."""
        table = isinstance(self.population, TablePopulation)
        fair = self.fairness
        unset = set(DERIVED_FAIRNESS) - fair.model_fields_set
        if table and unset:
            values = {**dict(fair), **{k: DERIVED_FAIRNESS[k](self.population)
                                       for k in unset}}
            fair = Fairness.model_construct(_fields_set=set(fair.model_fields_set), **values)
            object.__setattr__(self, "fairness", fair)  # frozen: set once, while validating
        _check_audited(fair, self.population)
        return self

    def _time_split_has_dates(self) -> ExperimentConfig:
        """An out-of-time split needs the applications' dates."""
        if self.evaluation.split != "time":
            return self
        population = self.population
        if isinstance(population, TablePopulation) and population.date_column is None:
            raise cross_error("evaluation.split: time needs population.date_column (the "
                               "column holding each application's date)")
        if isinstance(population, SyntheticPopulation) and population.months < 2:
            raise cross_error("evaluation.split: time needs population.months of at least "
                               "2 (the synthetic application months)")
        return self

    def _on_the_scale(self) -> ExperimentConfig:
        """The cut-off and the base score lie on the score scale: a cut-off of 5000 on a
        350-950 scale would silently reject everyone."""
        try:
            scale = scale_from_config(self.scale)
        except DataError as exc:
            raise cross_error(f"scale: {exc}") from None
        span = f"the {scale.name} scale runs from {scale.low:g} to {scale.high:g}"
        cutoff = self.decision.cutoff_score
        if cutoff is not None and not scale.low <= cutoff <= scale.high:
            raise cross_error(f"decision.cutoff_score: {cutoff:g} is off the score scale "
                               f"({span}); give a score within it, or a "
                               "target_approval_rate instead")
        if not scale.low <= scale.base_score <= scale.high:
            raise cross_error(f"scale.base_score: {scale.base_score:g} is off the score "
                               f"scale ({span})")
        return self

    def with_(self, overrides: Mapping[str, Any] | None = None, /,
              **kwargs: Any) -> ExperimentConfig:
        """A copy with some values changed, validated like a file.

        Keys are dotted paths (``{"population.n_citizens": 5000}``, ``"models.0.params.
        n_estimators"``); as keyword arguments, ``__`` stands for the dot
        (``population__n_citizens=5000``).

        Raises
        ------
        ConfigError
            One line naming the key that does not exist or the value that is not valid.
        """
        return apply_overrides(self, {**(overrides or {}), **kwargs})


def age_attribute(config: ExperimentConfig) -> str | None:
    """The column every age analysis follows (None: the population has no age)."""
    if isinstance(config.population, TablePopulation):
        return config.population.age_column
    return "age"


def _check_audited(fair: Fairness, population: SyntheticPopulation | TablePopulation) -> None:
    """Every audited attribute, intersection member and reference group is one the
    population has, so a misnamed one fails at validation, not after fitting."""
    valid = protected_attributes(population)
    where = ("population.protected declares: " + (", ".join(valid) or "none")
             if isinstance(population, TablePopulation)
             else "valid: " + ", ".join(valid))
    for name in fair.attributes:
        if name not in valid:
            raise cross_error(f"fairness.attributes: '{name}' is not a protected attribute "
                               f"of the population ({where})")
    for group in fair.intersections:
        for name in group:
            if name not in valid:
                raise cross_error(f"fairness.intersections: '{name}' (in {' x '.join(group)})"
                                   f" is not a protected attribute of the population ({where})")
        if len(set(group)) < 2:
            raise cross_error(f"fairness.intersections: '{' x '.join(group)}' needs at least "
                               "two different attributes")
    audited = [*fair.attributes, *(a for g in fair.intersections for a in g)]
    names = {*audited, *(f"{a}_band" for a in audited)}
    for key in fair.reference_groups:
        if key not in names:
            shown = ", ".join(dict.fromkeys(audited)) or "none"
            raise cross_error(f"fairness.reference_groups: '{key}' is not an audited "
                               f"attribute (audited: {shown})")


def config_from_dict(raw: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate a mapping as an experiment config; raise :class:`ConfigError` on error."""
    return validated(ExperimentConfig, raw, source)
