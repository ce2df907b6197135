"""``compute.sample_size``: which training citizens each fit uses.

The families that gain little from more rows train on a seeded sample of a fold's
training citizens; the families that gain from every row (their class says so) train
on all of them. Both engines draw the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from scorelab.engine.folds import Fold

__all__ = ["FitSample", "model_fold", "training_note", "training_sample",
           "trains_on_every_row"]


@dataclass(frozen=True)
class FitSample:
    """``compute.sample_size``: the families that gain little from more rows (every
    family but the tree ensembles that train on the log-odds: scorecard binning, MLP,
    expert calibrators, hybrids, mitigation variants, the calibrated forest) train on a
    seeded sample of at most ``size`` of a fold's training citizens
    (:func:`training_sample`); they still score every held-out citizen."""

    size: int
    seed: int

    @classmethod
    def of(cls, size: int | None, seed: int) -> FitSample | None:
        """The sample rule of ``compute.sample_size`` (None: every row) and the seed."""
        return None if size is None else cls(int(size), int(seed))

    def drawn(self, fold: Fold) -> np.ndarray:
        """The seeded sample of ``fold``'s training positions (all up to ``size``)."""
        return training_sample(fold.train, self.size, self.seed, fold.repeat, fold.fold)

    def rows(self, estimator: BaseEstimator, fold: Fold) -> np.ndarray:
        """The training positions ``estimator`` is fitted on for ``fold``."""
        return fold.train if trains_on_every_row(estimator) else self.drawn(fold)


def trains_on_every_row(estimator: BaseEstimator) -> bool:
    """Whether a model trains on every training citizen whatever ``compute.sample_size``
    (its family says: LightGBM, and the forest without its inner cross-fitted
    calibration, whose raw score is the log-odds)."""
    return bool(getattr(estimator, "trains_on_every_row", lambda: False)())


def training_sample(train: np.ndarray, size: int, seed: int, repeat: int,
                    fold: int) -> np.ndarray:
    """The fold's training positions a sampled family trains on: all of them up to
    ``size``, else ``size`` drawn without replacement by the seeded generator ``(seed, 6,
    repeat, fold)`` (sorted, so the sample is in citizen order)."""
    if train.size <= size:
        return train
    rng = np.random.default_rng([seed, 6, repeat + 1, fold + 1])
    return np.sort(rng.choice(train, size=size, replace=False))


def training_note(estimator: BaseEstimator, sample: FitSample | None) -> str:
    """How a model was trained, in words, for the run's study.json and report."""
    if sample is None or trains_on_every_row(estimator):
        return "every training citizen of each fit"
    return (f"sample: a seeded sample of at most {sample.size:,} training citizens per "
            "fit; scores every held-out citizen")


def model_fold(model: Any, fold: Fold, sample: FitSample | None) -> Fold:
    """``fold`` with the training rows ``model`` (a prepared model) is fitted on."""
    if sample is None:
        return fold
    rows = sample.rows(model.estimator, fold)
    return fold if rows is fold.train else Fold(fold.repeat, fold.fold, rows, fold.test)
