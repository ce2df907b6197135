"""The forecasting families and their catalogue.

Expert and logit classes are re-exported lazily (on first access), so that importing
``scorelab.models`` does not import optbinning until a scorecard is used.
"""

from __future__ import annotations

from typing import Any

from scorelab.models.base import ScorelabClassifier, as_frame, categorical_columns
from scorelab.models.hybrid import ExpertBoostHybrid, StackingHybrid, YimMitchellHybrid
from scorelab.models.neural import MLPFamily
from scorelab.models.registry import DEFAULT_KIND, all_estimators, build_model, model_class
from scorelab.models.trees import LightGBMFamily, RandomForestFamily

__all__ = [
    "DEFAULT_KIND",
    "FAMILIES",
    "ExpertBoostHybrid",
    "LightGBMFamily",
    "LogitScorecard",
    "MLPFamily",
    "RandomForestFamily",
    "ScorelabClassifier",
    "SesameScore",
    "StackingHybrid",
    "SuiningPoints",
    "YimMitchellHybrid",
    "all_estimators",
    "as_frame",
    "build_model",
    "categorical_columns",
    "model_class",
]

_LAZY = {
    "FAMILIES": ("scorelab.models.registry", "FAMILIES"),
    "SuiningPoints": ("scorelab.models.expert", "SuiningPoints"),
    "SesameScore": ("scorelab.models.expert", "SesameScore"),
    "LogitScorecard": ("scorelab.models.logit", "LogitScorecard"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
