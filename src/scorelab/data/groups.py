"""Protected groups: age cut into bands, categorical attributes as they are."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def age_band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands that start at each edge: 18-25, 26-35, ..., 66+."""
    labels = [f"{a:g}-{b - 1:g}" for a, b in zip(edges, edges[1:], strict=False)]
    return labels + [f"{edges[-1]:g}+"]


def age_bands(age: pd.Series | np.ndarray, edges: Sequence[float]) -> pd.Categorical:
    """Cut ages into the bands starting at ``edges`` (ages below the first edge join it)."""
    values = np.floor(np.asarray(age, dtype=float))
    codes = np.clip(np.searchsorted(np.asarray(edges, dtype=float), values, side="right") - 1,
                    0, len(edges) - 1)
    return pd.Categorical.from_codes(codes, categories=age_band_labels(edges), ordered=True)


def group_column(frame: pd.DataFrame, attribute: str, edges: Sequence[float]) -> pd.Series:
    """The group of every citizen for one protected attribute (age is banded)."""
    if attribute == "age":
        return pd.Series(age_bands(frame["age"], edges), index=frame.index, name="age_band")
    return frame[attribute].astype("category").rename(attribute)
