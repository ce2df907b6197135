"""Out-of-time validation: the latest applications form a fold of their own.

A lender validates a score on applications that came after the ones it was built on.
Here the latest ``time_test_share`` of applications (by date; applications of one date
never straddle the cut) are the out-of-time fold, scored by a model trained on every
earlier application. The earlier ones are cross-validated in stratified folds as usual,
so that every citizen still gets exactly one out-of-fold score per repeat and every
later stage (explanations, fairness, the report) works unchanged. The out-of-time fold
is numbered last (``folds``).
"""

from __future__ import annotations

import numpy as np

from scorelab.engine import Fold, make_folds
from scorelab.exceptions import DataError

__all__ = ["time_folds"]


def _as_order(dates: np.ndarray) -> np.ndarray:
    values = np.asarray(dates)
    if np.issubdtype(values.dtype, np.datetime64):
        return values.astype("datetime64[ns]").astype(np.int64)
    return values.astype(np.float64)


def time_folds(y: np.ndarray, dates: np.ndarray, folds: int, repeats: int, seed: int,
               test_share: float, date_column: str) -> list[Fold]:
    """Stratified folds over the earlier applications plus, per repeat, the out-of-time
    fold (the latest ``test_share``), trained on every earlier application."""
    order = _as_order(dates)
    n = order.size
    threshold = np.sort(order)[min(n - 1, int(np.floor(n * (1.0 - test_share))))]
    late = order >= threshold
    early_idx, late_idx = np.flatnonzero(~late), np.flatnonzero(late)
    if early_idx.size == 0:
        raise DataError(f"evaluation.time_test_share: every application shares the latest "
                        f"date of '{date_column}', so none is left to train on; the "
                        "out-of-time split needs applications of several dates")
    y_late = np.asarray(y)[late_idx]
    if y_late.min() == y_late.max():
        only = "defaulters" if y_late[0] == 1 else "non-defaulters"
        raise DataError(f"evaluation.time_test_share: the out-of-time fold (the "
                        f"{late_idx.size:,} latest applications by '{date_column}') holds "
                        f"{only} only; raise time_test_share")
    inner = make_folds(np.asarray(y)[early_idx], folds, repeats, seed)
    out = []
    for repeat in range(repeats):
        out += [Fold(f.repeat, f.fold, early_idx[f.train], early_idx[f.test])
                for f in inner if f.repeat == repeat]
        out.append(Fold(repeat, folds, early_idx, late_idx))
    return out
