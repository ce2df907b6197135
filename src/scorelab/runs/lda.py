"""The search for less discriminatory alternatives in a run directory: its contract.

``lda/frontier.json`` (the reference, each tolerance's choice with its decision, the
search's verdict, the stopping certificate, the group-threshold reference point and the
truth check) and ``lda/candidates.parquet`` (one row per candidate trained, with what it
changed against the reference and a ``decision_<tolerance>`` column per tolerance) are
written by ``scorelab lda`` and read here, validated, by the report. The chosen
alternatives are models of the run (``models/<name>/``, ``saved_models``). A run without
``lda/`` has no search (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from scorelab.exceptions import DataError

__all__ = ["CANDIDATES_FILE", "CANDIDATE_COLUMNS", "FRONTIER_FILE", "LdaData", "LdaFrontier",
           "load_lda"]

FRONTIER_FILE = "lda/frontier.json"
CANDIDATES_FILE = "lda/candidates.parquet"
#: Columns every candidates table has (per-attribute disparity columns come beside).
CANDIDATE_COLUMNS = ("candidate", "family", "kind", "dropped", "auc", "auc_loss",
                     "auc_loss_se", "disparity", "reduction_low", "reduction_high",
                     "frontier", "batch")


class LdaFrontier(BaseModel):
    """``lda/frontier.json``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    attribute: str
    group: str
    approval_rate: float
    reference: dict[str, Any]
    choices: list[dict[str, Any]]
    stopping: dict[str, Any]
    guarantee: str
    thresholds: dict[str, Any]
    truth: dict[str, Any] | None
    proxies: list[str]
    saved_models: list[str]  # chosen alternatives that are models of the run
    verdict: dict[str, Any] | None = None  # the best decision reached (adopt > consider > none)


@dataclass(frozen=True)
class LdaData:
    """A run's search, validated."""

    frontier: LdaFrontier
    candidates: pd.DataFrame


def load_lda(run_dir: str | Path) -> LdaData | None:
    """The run's search, or None when the run has no ``lda/`` folder.

    Raises
    ------
    DataError
        One line naming the file that is missing or does not match its contract.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "lda").is_dir():
        return None
    for name in (FRONTIER_FILE, CANDIDATES_FILE):
        if not (run_dir / name).is_file():
            raise DataError(f"run directory '{run_dir}': {name} is missing (the search's "
                            "files come together)")
    try:
        frontier = LdaFrontier.model_validate_json((run_dir / FRONTIER_FILE).read_text())
    except (OSError, UnicodeDecodeError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        what = (f"field '{'.'.join(str(p) for p in first['loc'])}': {first['msg']}"
                if first else type(exc).__name__)
        raise DataError(f"run directory '{run_dir}': {FRONTIER_FILE}: {what}") from None
    try:
        candidates = pd.read_parquet(run_dir / CANDIDATES_FILE)
    except Exception as exc:  # noqa: BLE001 (pyarrow raises many types for a damaged file)
        raise DataError(f"run directory '{run_dir}': {CANDIDATES_FILE}: not a readable "
                        f"Parquet file ({type(exc).__name__})") from None
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        raise DataError(f"run directory '{run_dir}': {CANDIDATES_FILE}: lacks column(s) "
                        f"{', '.join(missing)}")
    return LdaData(frontier, candidates)
