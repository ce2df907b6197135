"""Ages cut into bands: the one rule every layer bands ages by (a fairness audit, a
mitigation variant, the age analyses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["AgeSpec", "age_band_labels", "age_bands"]


def age_band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands that start at each edge: 18-25, 26-35, ..., 62+."""
    labels = [f"{a:g}-{b - 1:g}" for a, b in zip(edges, edges[1:], strict=False)]
    return labels + [f"{edges[-1]:g}+"]


def age_bands(age: pd.Series | np.ndarray, edges: Sequence[float]) -> pd.Categorical:
    """Cut ages into the bands starting at ``edges`` (ages below the first edge join it;
    a missing age has no band: NaN)."""
    values = np.floor(np.asarray(age, dtype=float))
    codes = np.clip(np.searchsorted(np.asarray(edges, dtype=float), values, side="right") - 1,
                    0, len(edges) - 1)
    codes[np.isnan(values)] = -1
    return pd.Categorical.from_codes(codes, categories=age_band_labels(edges), ordered=True)


@dataclass(frozen=True)
class AgeSpec:
    """What every age analysis follows: the age column (None: the population has none),
    the lower edges of the age bands, and so the young: the first band."""

    column: str | None
    bands: tuple[float, ...]

    @property
    def young_limit(self) -> float:
        """The first age past the youngest band (26 for the default bands 18, 26, ...)."""
        return float(self.bands[1])

    def young(self, ages: Any) -> np.ndarray:
        """Whether each age lies in the youngest band (a missing age does not)."""
        return np.floor(np.asarray(ages, dtype=float)) < self.young_limit
