"""The experiment config: YAML parsed into frozen pydantic models, one module per section.

Unknown keys are rejected (a typo must never be silently ignored), every field carries a
description (shown by ``scorelab render-config --schema``), and a ``schema_version``
lets later versions upgrade old files. The model families a config may name, and the
bounds of their parameters, come from the families themselves (:mod:`scorelab.models`).

Imports the foundation and ``models``; every layer above reads its sections.
"""

from scorelab.config.base import MAX_SEED, SCHEMA_VERSION
from scorelab.config.compute import MIN_WORKER_MEMORY, Compute, DaskCompute, memory_bytes
from scorelab.config.decision import Decision, DecisionCosts, Scale
from scorelab.config.evaluation import Evaluation, Tuning
from scorelab.config.experiment import ExperimentConfig, age_attribute, config_from_dict
from scorelab.config.explain import (
    REASON_CATALOGUES_DIR,
    AdverseReasons,
    Explain,
    ReasonEntry,
    builtin_catalogues,
)
from scorelab.config.fairness import PROHIBITED_BY_POLICY, Fairness
from scorelab.config.lda import Lda
from scorelab.config.loading import config_hash, dump_config, load_config
from scorelab.config.models import (
    MAX_HIDDEN_LAYERS,
    MAX_LAYER_UNITS,
    PARAM_MAXIMA,
    ModelSpec,
    SearchRange,
)
from scorelab.config.output import DEFAULT_TRACKING_URI, MlflowTracking, Output, Report, RunLimits
from scorelab.config.overrides import apply_overrides, format_validation_error
from scorelab.config.population import (
    MAX_AGE,
    MIN_AGE,
    SYNTHETIC_PROTECTED,
    PopulationConfig,
    SyntheticPopulation,
    TablePopulation,
    protected_attributes,
)

__all__ = [
    "DEFAULT_TRACKING_URI",
    "MAX_AGE",
    "MAX_HIDDEN_LAYERS",
    "MAX_LAYER_UNITS",
    "MAX_SEED",
    "MIN_AGE",
    "MIN_WORKER_MEMORY",
    "PARAM_MAXIMA",
    "PROHIBITED_BY_POLICY",
    "REASON_CATALOGUES_DIR",
    "ReasonEntry",
    "SCHEMA_VERSION",
    "SYNTHETIC_PROTECTED",
    "AdverseReasons",
    "Compute",
    "DaskCompute",
    "Decision",
    "DecisionCosts",
    "Evaluation",
    "ExperimentConfig",
    "Explain",
    "Fairness",
    "Lda",
    "MlflowTracking",
    "ModelSpec",
    "Output",
    "PopulationConfig",
    "Report",
    "RunLimits",
    "Scale",
    "SearchRange",
    "SyntheticPopulation",
    "TablePopulation",
    "Tuning",
    "age_attribute",
    "apply_overrides",
    "builtin_catalogues",
    "config_from_dict",
    "config_hash",
    "dump_config",
    "format_validation_error",
    "load_config",
    "memory_bytes",
    "protected_attributes",
]
