"""The one JSON policy of scorelab's files: NaN and infinity become null, never NaN.

Every JSON text scorelab writes (a run's artifacts, data cards, Parquet metadata, what
a command prints as JSON) goes through :func:`dumps`, so none holds a token (``NaN``,
``Infinity``) that strict JSON readers reject.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["dumps", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars/arrays, frames and NaN/inf made JSON-safe (None)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict("records")]
    if isinstance(value, pd.Series | np.ndarray | list | tuple):
        return [jsonable(v) for v in list(value)]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is None or isinstance(value, str | int):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Path):
        return str(value)
    return str(value)


def dumps(value: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of ``value`` after :func:`jsonable`: indented and newline-ended
    (a file), or one line with ``indent=None`` (Parquet metadata, a hash's payload)."""
    text = json.dumps(jsonable(value), indent=indent, sort_keys=sort_keys, allow_nan=False)
    return text + "\n" if indent is not None else text
