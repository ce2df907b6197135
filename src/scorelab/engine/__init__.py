"""The fold engine: the same folds for every family, fitted here or on a Dask cluster.

``folds`` (the splits, the audit sample), ``sample`` (which training rows a fit uses),
``prepare`` (each model built once, then given its inputs), ``local`` (the joblib fold
engine) and ``dask/`` (the population, fits and per-partition counts on a cluster).

Imports the foundation, ``models``, ``config`` and ``data``; never a stage.
"""

from scorelab.engine.folds import Fold, audit_sample, fold_of, make_folds
from scorelab.engine.local import FoldResults, Progress, fit_final, fit_folds
from scorelab.engine.prepare import (
    ROLES,
    BuiltModel,
    PreparedModel,
    build_models,
    mitigation_sensitive,
    model_inputs,
    prepare_models,
    require_models,
    skip_reason,
    tuning_threshold,
)
from scorelab.engine.sample import (
    FitSample,
    model_fold,
    training_note,
    training_sample,
    trains_on_every_row,
)

__all__ = [
    "ROLES",
    "BuiltModel",
    "FitSample",
    "Fold",
    "FoldResults",
    "PreparedModel",
    "Progress",
    "audit_sample",
    "build_models",
    "fit_final",
    "fit_folds",
    "fold_of",
    "make_folds",
    "mitigation_sensitive",
    "model_fold",
    "model_inputs",
    "prepare_models",
    "require_models",
    "skip_reason",
    "training_note",
    "training_sample",
    "trains_on_every_row",
    "tuning_threshold",
]
