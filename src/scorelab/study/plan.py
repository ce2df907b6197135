"""The plan: the config unpacked once, into what each stage of a run reads.

A run builds its :class:`Plan` first: every model spec built and validated once (an
estimator per spec, its tuning plan), the score scale, the decision rule, the age
specification (column, bands, the young), the seeds and the training sample. The stages
below the study never see the whole config: the orchestrator hands each the sections
and values it uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from scorelab.config import (
    Decision,
    Evaluation,
    ExperimentConfig,
    Explain,
    Fairness,
    TablePopulation,
    age_attribute,
)
from scorelab.core.ages import AgeSpec
from scorelab.core.scale import ScoreScale, scale_from_config
from scorelab.data.schema import Schema
from scorelab.engine import (
    BuiltModel,
    FitSample,
    PreparedModel,
    build_models,
    prepare_models,
    tuning_threshold,
)

__all__ = ["Plan"]


@dataclass(frozen=True)
class Plan:
    """A study's config, unpacked once.

    Attributes
    ----------
    config : the resolved config (written beside the run as it is).
    models : every model spec built and checked, in config order.
    scale : probability -> points -> category.
    age : the age attribute, its bands and the young (the first band).
    sample : the training sample of large studies (``compute.sample_size``), or None.
    threshold : the P(default) the expected-cost tuning metric rejects above, or None.
    real_table : the population is a table (no planted truth).
    """

    config: ExperimentConfig
    models: tuple[BuiltModel, ...]
    scale: ScoreScale
    age: AgeSpec
    sample: FitSample | None
    threshold: float | None
    real_table: bool

    @classmethod
    def of(cls, config: ExperimentConfig | Plan) -> Plan:
        """Unpack ``config`` (a plan is its own plan); every mistake in its model list is
        one ConfigError line."""
        if isinstance(config, Plan):
            return config
        scale = scale_from_config(config.scale)
        tuning = config.evaluation.tuning
        threshold = tuning_threshold(tuning, config.decision, scale)
        age = AgeSpec(age_attribute(config), tuple(config.fairness.age_bands))
        real_table = isinstance(config.population, TablePopulation)
        models = build_models(config.models, scale=scale, tuning=tuning, threshold=threshold,
                              seed=config.seed, age_column=age.column,
                              real_table=real_table)
        return cls(config, tuple(models), scale, age,
                   FitSample.of(config.compute.sample_size, config.seed), threshold,
                   real_table)

    def prepare(self, schema: Schema, n_rows: int | None = None
                ) -> tuple[list[PreparedModel], dict[str, str]]:
        """The runnable models with their input columns, and why the others are skipped.

        On a table of ``n_rows`` rows, each model takes the parameters sized to the
        table that its config does not set (its family's ``sized_params``: the MLP's
        width and regularisation, LightGBM's leaves, the hybrids' inner folds; the model
        card says which); a synthetic study keeps the family defaults, which were set
        for the synthetic population."""
        return prepare_models(self.models, schema, age_column=self.age.column,
                              n_rows=n_rows if self.real_table else None)

    # the sections the stages read, by name
    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def decision(self) -> Decision:
        return self.config.decision

    @property
    def evaluation(self) -> Evaluation:
        return self.config.evaluation

    @property
    def explain(self) -> Explain:
        return self.config.explain

    @property
    def fairness(self) -> Fairness:
        return self.config.fairness
