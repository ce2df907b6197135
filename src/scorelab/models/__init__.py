"""The forecasting families: scikit-learn classifiers that describe themselves.

Each family is one class (:class:`~scorelab.models.base.ScorelabClassifier`) and one line
of the registry (:data:`~scorelab.models.registry.FAMILY_CLASSES`); tuning, persistence
(skops, never pickle) and model cards read what they need of a family from its class.

Imports only the foundation (``scorelab.core``, ``scorelab.exceptions``): the families
are plain estimators, usable without a config or a study.
"""

from scorelab.models.base import ScorelabClassifier, as_frame, categorical_columns
from scorelab.models.ensemble import EnsembleSelectionHybrid
from scorelab.models.expert import SesameScore, SuiningPoints
from scorelab.models.hybrid import ExpertBoostHybrid, StackingHybrid, YimMitchellHybrid
from scorelab.models.logit import LogitScorecard
from scorelab.models.mitigation import ReductionsMitigator, ThresholdMitigator
from scorelab.models.neural import MLPFamily
from scorelab.models.persist import load_model, save_model
from scorelab.models.registry import (
    DEFAULT_KIND,
    FAMILIES,
    FAMILY_CLASSES,
    all_estimators,
    build_model,
    model_class,
)
from scorelab.models.trees import LightGBMFamily, RandomForestFamily

__all__ = [
    "DEFAULT_KIND",
    "FAMILIES",
    "FAMILY_CLASSES",
    "EnsembleSelectionHybrid",
    "ExpertBoostHybrid",
    "LightGBMFamily",
    "LogitScorecard",
    "MLPFamily",
    "RandomForestFamily",
    "ReductionsMitigator",
    "ScorelabClassifier",
    "SesameScore",
    "StackingHybrid",
    "SuiningPoints",
    "ThresholdMitigator",
    "YimMitchellHybrid",
    "all_estimators",
    "as_frame",
    "build_model",
    "categorical_columns",
    "load_model",
    "model_class",
    "save_model",
]
