"""``scorelab explain``: a letter to one citizen, read from a run directory only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from scorelab.exceptions import DataError
from scorelab.explain.reasons import letter


def _need(run_dir: Path, name: str, hint: str) -> Path:
    path = run_dir / name
    if not path.is_file():
        raise DataError(f"{run_dir}: no {name} ({hint})")
    return path


def choose_model(names: list[str], families: dict[str, str], wanted: str | None,
                 best: str) -> str:
    """A model by its name, or by its family when that family has a single model."""
    if wanted is None:
        return best
    if wanted in names:
        return wanted
    of_family = [n for n in names if families.get(n) == wanted]
    if len(of_family) == 1:
        return of_family[0]
    if of_family:
        raise DataError(f"family '{wanted}' has several models ({', '.join(of_family)}); "
                        "give one of their names with --family")
    raise DataError(f"no model or family '{wanted}' in this run (models: {', '.join(names)}; "
                    f"families: {', '.join(sorted(set(families.values())))})")


def citizen_letter(run_dir: str | Path, citizen_id: int, model: str | None = None) -> str:
    """The letter of ``citizen_id`` for ``model`` (default: the run's best model)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory '{run_dir}' not found")
    metrics = json.loads(_need(run_dir, "metrics.json", "not a scorelab run").read_text())
    board = pd.read_csv(_need(run_dir, "leaderboard.csv", "not a scorelab run"))
    names = [str(n) for n in board["model"]]
    families = {n: metrics["models"][n]["family"] for n in names}
    name = choose_model(names, families, model, best=names[0])
    explanations_path = _need(run_dir, "explanations.parquet",
                              "explain.enabled was false for this run")
    predictions = pd.read_parquet(
        _need(run_dir, "predictions.parquet", "not a scorelab run"),
        filters=[("citizen_id", "=", citizen_id), ("repeat", "=", 0)])
    if predictions.empty:
        ids = pq.read_table(run_dir / "predictions.parquet", columns=["citizen_id"]).column(0)
        raise DataError(f"citizen {citizen_id} is not in this run (citizen ids "
                        f"{ids.to_pandas().min()}-{ids.to_pandas().max()})")
    row = predictions[predictions["model"].astype(str) == name].iloc[0]
    rows = pd.read_parquet(explanations_path, filters=[("citizen_id", "=", citizen_id)])
    rows = rows[rows["model"].astype(str) == name]
    if rows.empty:
        sample = pd.read_parquet(explanations_path, columns=["citizen_id", "model"])
        some = sample.loc[sample["model"].astype(str) == name, "citizen_id"].drop_duplicates()
        raise DataError(f"citizen {citizen_id} is not in the audit sample explained for "
                        f"'{name}' ({some.size} citizens, e.g. "
                        f"{', '.join(str(i) for i in some.head(5))})")
    cutoff = float(metrics["models"][name]["decision"]["cutoff_score"])
    return letter(rows, score=float(row["score"]), category=str(row["category"]),
                  approved=bool(row["score"] >= cutoff), cutoff=cutoff, model=name,
                  citizen_id=citizen_id)
