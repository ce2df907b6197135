"""Protected groups: age cut into bands, other numbers into quintiles, categories as they
are; a missing value is its own group ("missing") or left out, as the audit asks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from scorelab.core.ages import age_bands

MISSING_GROUP = "missing"
_FEW_VALUES = 10  # a numeric attribute with at most this many values keeps them as groups


def band_name(age_column: str) -> str:
    """The name of the banded age attribute in group tables (``age`` -> ``age_band``)."""
    return f"{age_column}_band"


def _numeric_groups(values: pd.Series) -> pd.Series:
    """A numeric attribute's groups: its values when few, else quintiles ("lo-hi")."""
    if values.nunique() <= _FEW_VALUES:
        return values.map(lambda v: f"{v:g}", na_action="ignore").astype("category")
    bins = pd.qcut(values, 5, duplicates="drop")
    span = values.groupby(bins, observed=False).agg(["min", "max"])
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(span["min"], span["max"], strict=True)]
    return bins.cat.rename_categories(labels)  # labelled by the values each holds


def group_column(frame: pd.DataFrame, attribute: str, edges: Sequence[float],
                 age_column: str | None = "age",
                 missing: Literal["group", "drop", "error"] = "group") -> pd.Series:
    """The group of every citizen for one protected attribute.

    The age attribute (``age_column``) is cut into the bands starting at ``edges`` and
    named ``<age_column>_band``; another numeric attribute is cut into quintiles; a
    category is its own group. A missing value forms the group "missing" (``missing=
    "group"``) or stays NaN, i.e. outside every group (``"drop"``; ``"error"`` was
    checked before the run and leaves nothing missing).
    """
    values = frame[attribute]
    if attribute == age_column:
        groups = pd.Series(age_bands(values, edges), index=frame.index,
                           name=band_name(attribute))
    elif isinstance(values.dtype, pd.CategoricalDtype) or \
            not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        groups = values.astype("category").rename(attribute)
    else:
        groups = _numeric_groups(values).rename(attribute)
    if missing == "group" and bool(groups.isna().any()):
        if MISSING_GROUP not in groups.cat.categories:
            groups = groups.cat.add_categories(MISSING_GROUP)
        groups = groups.fillna(MISSING_GROUP)
    return groups
