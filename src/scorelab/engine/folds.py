"""The folds every family shares: stratified K-fold splits, which fold held each citizen
out, and the audit sample every family explains."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from scorelab.exceptions import ConfigError, DataError

__all__ = ["Fold", "audit_sample", "fold_of", "make_folds"]


@dataclass(frozen=True)
class Fold:
    """One train/test split: which repeat and fold it is, and the row positions."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def make_folds(y: np.ndarray, folds: int, repeats: int, seed: int) -> list[Fold]:
    """Stratified folds over ``y`` (0/1); every citizen is tested once per repeat."""
    y = np.asarray(y)
    values, counts = np.unique(y, return_counts=True)
    if values.size < 2:
        raise DataError(f"the population has one class only ({values.tolist()}): "
                        "a scoring model needs both defaulters and non-defaulters")
    if folds > counts.min():
        label = "defaulters" if values[np.argmin(counts)] == 1 else "non-defaulters"
        raise ConfigError(f"evaluation.folds={folds} is larger than the {counts.min()} "
                          f"{label} in the population; use at most {counts.min()} folds "
                          "or more citizens")
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    out = []
    for i, (train, test) in enumerate(splitter.split(np.zeros(y.size), y)):
        out.append(Fold(repeat=i // folds, fold=i % folds, train=train, test=test))
    return out


def audit_sample(n: int, size: int, seed: int) -> np.ndarray:
    """Positions of the audit sample: a seeded order's first ``size`` citizens.

    Every family explains the same citizens; a smaller sample (the agnostic explainer's)
    is the first part of the same order, so the samples are nested.
    """
    order = np.random.default_rng([seed, 4]).permutation(n)
    return np.sort(order[:min(size, n)])


def fold_of(folds: list[Fold], n: int, repeat: int = 0) -> np.ndarray:
    """The fold that held each citizen out in ``repeat`` (an int array over citizens)."""
    out = np.full(n, -1, dtype=np.int64)
    for f in folds:
        if f.repeat == repeat:
            out[f.test] = f.fold
    return out
