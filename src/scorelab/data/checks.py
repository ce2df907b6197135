"""Checks of a population against the audit asked of it, before any model is fitted."""

from __future__ import annotations

import numpy as np

from scorelab.config import Fairness
from scorelab.data.synthetic import Population
from scorelab.exceptions import DataError

__all__ = ["audited_columns", "check_audited_values"]

_ROWS_SHOWN = 5


def audited_columns(fairness: Fairness) -> list[str]:
    """Every attribute the audit groups citizens by (alone or in an intersection)."""
    return list(dict.fromkeys([*fairness.attributes,
                               *(a for group in fairness.intersections for a in group)]))


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:_ROWS_SHOWN])
    return shown + (f", ... ({rows.size - _ROWS_SHOWN} more)" if rows.size > _ROWS_SHOWN
                    else "")


def check_audited_values(fairness: Fairness, population: Population) -> None:
    """Raise :class:`DataError` (one line naming the column and rows) for an audited
    attribute the population lacks or never knows, or with missing values when
    ``fairness.missing_protected`` is ``error``."""
    if not fairness.enabled:
        return
    frame = population.frame
    where = population.meta.get("path", "the population")
    for column in audited_columns(fairness):
        if column not in frame.columns:
            raise DataError(f"fairness.attributes: '{column}' is not a column of '{where}'; "
                            f"its protected columns: "
                            f"{', '.join(population.schema.with_role('protected')) or 'none'}")
        missing = frame[column].isna().to_numpy()
        if missing.all():
            raise DataError(f"protected column '{column}' of '{where}' has no known value "
                            f"({missing.size} rows missing); fill it, or remove it from "
                            "population.protected and fairness")
        if missing.any() and fairness.missing_protected == "error":
            raise DataError(f"protected column '{column}' of '{where}' has {int(missing.sum())}"
                            f" missing value(s) (row(s) {_rows(missing)}) and fairness."
                            "missing_protected is error; fill or remove those rows, or set "
                            "missing_protected: group (their own group) or drop (left out "
                            "of the audit)")
