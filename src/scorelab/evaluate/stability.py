"""Is the population stable? The population stability index (PSI) of a score and the
characteristic stability of each input, with the usual traffic lights.

PSI compares how a reference ("expected") sample and a later ("actual") sample spread
over the same bins: ``sum((a_i - e_i) * ln(a_i / e_i))`` over bins ``i`` of shares
``e_i`` and ``a_i`` (Siddiqi 2017; optbinning's monitoring computes it as Jeffrey's
divergence, the same formula). Numbers are cut into the reference's deciles (tied
quantiles merged), categories keep one bin per value, and a missing value is a bin of
its own, so thin files that become thinner show. A bin empty on one side gets the share
``EMPTY_SHARE`` instead of 0 (the logarithm would be infinite). Below ``PSI_AMBER``
a population is stable (green), from ``PSI_RED`` it has shifted (red); in between,
watch it (amber).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EMPTY_SHARE", "PSI_AMBER", "PSI_RED", "characteristic_stability",
           "input_fold_stability", "light", "psi", "psi_table"]

#: PSI from which a shift is worth watching (amber), and from which it is significant (red).
PSI_AMBER, PSI_RED = 0.10, 0.25
#: The share given to a bin that is empty on one side.
EMPTY_SHARE = 1e-4
#: Numbers are cut into this many quantile bins of the reference sample.
N_BINS = 10
MISSING = "missing"


def light(value: float) -> str:
    """green (stable), amber (watch) or red (shifted); n/a when not computable."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return "red" if value >= PSI_RED else "amber" if value >= PSI_AMBER else "green"


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _bin_labels(expected: pd.Series, actual: pd.Series, n_bins: int
                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bin index of every value of both samples, and the bins' names."""
    if _is_number(expected) and _is_number(actual):
        e = expected.to_numpy(dtype=np.float64)
        a = actual.to_numpy(dtype=np.float64)
        known = e[~np.isnan(e)]
        inner = (np.unique(np.quantile(known, np.linspace(0, 1, n_bins + 1)[1:-1]))
                 if known.size else np.empty(0))
        names = [f"<= {inner[0]:.6g}"] if inner.size else ["all"]
        names += [f"({lo:.6g}, {hi:.6g}]" for lo, hi in zip(inner[:-1], inner[1:],
                                                              strict=True)]
        names += [f"> {inner[-1]:.6g}"] if inner.size else []
        missing = len(names)
        names.append(MISSING)

        def index(x: np.ndarray) -> np.ndarray:
            return np.where(np.isnan(x), missing, np.searchsorted(inner, x, side="left"))
        return index(e), index(a), names
    codes, values = pd.factorize(pd.concat([expected, actual], ignore_index=True)
                                 .astype(object), use_na_sentinel=True)
    names = [str(v) for v in values] + [MISSING]
    codes = np.where(codes < 0, len(values), codes)
    return codes[:expected.size], codes[expected.size:], names


def psi_table(expected: Any, actual: Any, n_bins: int = N_BINS) -> pd.DataFrame:
    """The bins with their shares in both samples and each bin's part of the PSI.

    Columns: bin, expected_share, actual_share, psi (the bin's term; the PSI is their
    sum). Bins empty in both samples are left out.
    """
    e_idx, a_idx, names = _bin_labels(pd.Series(expected), pd.Series(actual), n_bins)
    e = np.bincount(e_idx, minlength=len(names)) / max(e_idx.size, 1)
    a = np.bincount(a_idx, minlength=len(names)) / max(a_idx.size, 1)
    used = (e > 0) | (a > 0)
    e_s, a_s = np.maximum(e[used], EMPTY_SHARE), np.maximum(a[used], EMPTY_SHARE)
    return pd.DataFrame({"bin": np.asarray(names, dtype=object)[used],
                         "expected_share": e[used], "actual_share": a[used],
                         "psi": (a_s - e_s) * np.log(a_s / e_s)})


def psi(expected: Any, actual: Any, n_bins: int = N_BINS) -> float:
    """Population stability index of ``actual`` against the reference ``expected``."""
    return float(psi_table(expected, actual, n_bins)["psi"].sum())


def characteristic_stability(expected: pd.DataFrame, actual: pd.DataFrame,
                             columns: Sequence[str], n_bins: int = N_BINS) -> pd.DataFrame:
    """PSI of each input between two samples, largest first, with its light.

    Columns: column, psi, light, expected_missing, actual_missing (shares).
    """
    rows = []
    for column in columns:
        e, a = expected[column], actual[column]
        value = psi(e, a, n_bins)
        rows.append({"column": column, "psi": value, "light": light(value),
                     "expected_missing": float(e.isna().mean()),
                     "actual_missing": float(a.isna().mean())})
    table = pd.DataFrame(rows, columns=["column", "psi", "light", "expected_missing",
                                        "actual_missing"])
    return table.sort_values("psi", ascending=False, kind="stable", ignore_index=True)


def input_fold_stability(frame: pd.DataFrame, columns: Sequence[str],
                         folds: Sequence[Any]) -> pd.DataFrame:
    """Each input's PSI between training and test citizens in its least stable fold
    (first repeat), largest first: column, psi, light, fold, expected_missing,
    actual_missing."""
    worst: dict[str, dict[str, Any]] = {}
    for f in folds:
        if f.repeat != 0:
            continue
        table = characteristic_stability(frame.iloc[f.train], frame.iloc[f.test], columns)
        for row in table.to_dict("records"):
            if row["column"] not in worst or row["psi"] > worst[row["column"]]["psi"]:
                worst[row["column"]] = {**row, "fold": int(f.fold)}
    out = pd.DataFrame(list(worst.values()), columns=["column", "psi", "light", "fold",
                                                      "expected_missing", "actual_missing"])
    return out.sort_values("psi", ascending=False, kind="stable", ignore_index=True)
