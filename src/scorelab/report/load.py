"""Read and validate a run directory: the only input of the report layer.

A run directory holds six *core* artifacts, written by every ``scorelab run``; without
any of them there is no report, and :func:`load_run` says which are missing in one
line (a :class:`~scorelab.exceptions.DataError`). The *optional* artifacts of the
explanation and fairness layers may be absent (the layer was switched off, or the run
predates it): the report then says so in the section instead of failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from scorelab.exceptions import DataError

__all__ = ["CORE_ARTIFACTS", "OPTIONAL_ARTIFACTS", "RunData", "load_run", "outcomes"]

#: Files every run directory must hold, in the order they are reported when missing.
CORE_ARTIFACTS = ("manifest.json", "config.yaml", "metrics.json", "leaderboard.csv",
                  "predictions.parquet", "data_card.json")
#: Files of later layers; a report renders a note in their place when they are absent.
OPTIONAL_ARTIFACTS = ("explanations.parquet", "importance.json", "fairness.json",
                      "fairness_by_group.parquet")
PREDICTION_COLUMNS = ("citizen_id", "model", "family", "repeat", "p_default", "score")
LEADERBOARD_COLUMNS = ("model", "family", "auc")


@dataclass
class RunData:
    """Everything a report is rendered from, read from one run directory."""

    run_dir: Path
    manifest: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, Any]
    leaderboard: pd.DataFrame
    predictions: pd.DataFrame
    data_card: dict[str, Any]
    explanations: pd.DataFrame | None = None
    importance: dict[str, Any] | None = None
    fairness: dict[str, Any] | None = None
    fairness_by_group: pd.DataFrame | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def model_names(self) -> list[str]:
        """Models in leaderboard order (best AUC first)."""
        return [str(m) for m in self.leaderboard["model"]]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"run directory '{path.parent}': {path.name} is not readable JSON "
                        f"({exc})") from None
    if not isinstance(value, dict):
        raise DataError(f"run directory '{path.parent}': {path.name} must hold a JSON object")
    return value


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        value = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"run directory '{path.parent}': {path.name} is not readable YAML "
                        f"({first})") from None
    if not isinstance(value, dict):
        raise DataError(f"run directory '{path.parent}': {path.name} must hold a mapping")
    return value


def _read_table(path: Path, reader: Any, kind: str,
                required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a tabular artifact; a damaged file is one clear error naming it."""
    try:
        frame = reader(path)
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        raise DataError(f"run directory '{path.parent}': {path.name} is not a readable "
                        f"{kind} file ({type(exc).__name__})") from None
    _require_columns(path, frame, required)
    return frame


def _read_parquet(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    return _read_table(path, pd.read_parquet, "Parquet", required)


def _read_csv(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    return _read_table(path, pd.read_csv, "CSV", required)


def _require_columns(path: Path, frame: pd.DataFrame, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"run directory '{path.parent}': {path.name} lacks column(s) "
                        f"{', '.join(missing)}")


def load_run(run_dir: str | Path) -> RunData:
    """Read a run directory, checking that every core artifact is there and readable.

    Raises
    ------
    DataError
        One line naming the directory and every missing or unreadable core artifact.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory '{run_dir}' does not exist (give the folder a "
                        f"'scorelab run' printed on its last line)")
    missing = [name for name in CORE_ARTIFACTS if not (run_dir / name).is_file()]
    if missing:
        raise DataError(f"run directory '{run_dir}' is missing core artifact(s): "
                        f"{', '.join(missing)} (was the run interrupted, or is this not a "
                        f"run directory?)")
    metrics = _read_json(run_dir / "metrics.json")
    if not isinstance(metrics.get("models"), dict) or not metrics["models"]:
        raise DataError(f"run directory '{run_dir}': metrics.json has no 'models' section")
    run = RunData(
        run_dir=run_dir,
        manifest=_read_json(run_dir / "manifest.json"),
        config=_read_yaml(run_dir / "config.yaml"),
        metrics=metrics,
        leaderboard=_read_csv(run_dir / "leaderboard.csv", LEADERBOARD_COLUMNS),
        predictions=_read_parquet(run_dir / "predictions.parquet", PREDICTION_COLUMNS),
        data_card=_read_json(run_dir / "data_card.json"),
    )
    run.leaderboard["model"] = run.leaderboard["model"].astype(str)
    if (run_dir / "explanations.parquet").is_file():
        run.explanations = _read_parquet(run_dir / "explanations.parquet")
    if (run_dir / "importance.json").is_file():
        run.importance = _read_json(run_dir / "importance.json")
    if (run_dir / "fairness.json").is_file():
        run.fairness = _read_json(run_dir / "fairness.json")
    if (run_dir / "fairness_by_group.parquet").is_file():
        run.fairness_by_group = _read_parquet(run_dir / "fairness_by_group.parquet")
    return run


def outcomes(run: RunData) -> pd.Series | None:
    """The observed outcome per citizen_id, or None when the run does not allow it.

    Taken from the predictions when they carry it (a ``defaulted`` column); otherwise,
    for a synthetic population, the population is re-drawn from the run's config and
    seed (no model is trained) and accepted only if its fingerprint matches the
    manifest's. Anything else returns None and the curves are left out with a note.
    """
    pred = run.predictions
    for column in ("defaulted", "y", "outcome"):
        if column in pred.columns:
            first = pred.drop_duplicates("citizen_id")
            return pd.Series(first[column].to_numpy(), index=first["citizen_id"].to_numpy())
    population = run.config.get("population", {})
    if not isinstance(population, dict) or population.get("source", "synthetic") != "synthetic":
        return None
    try:
        from scorelab.config import config_from_dict
        from scorelab.generate import population_for
        from scorelab.runs import frame_fingerprint

        pop, _ = population_for(config_from_dict(run.config, source=str(run_dir_config(run))))
    except Exception:  # a config from another scorelab version: no curves, not a crash
        run.problems.append("the population could not be re-drawn from config.yaml")
        return None
    if frame_fingerprint(pop.frame) != run.manifest.get("data_fingerprint"):
        run.problems.append("the re-drawn population does not match the manifest's data "
                            "fingerprint")
        return None
    target = pop.schema.target
    return pd.Series(pop.frame[target].to_numpy().astype(np.int64),
                     index=pop.frame["citizen_id"].to_numpy())


def run_dir_config(run: RunData) -> Path:
    return run.run_dir / "config.yaml"
