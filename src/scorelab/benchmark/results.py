"""The long results table of a benchmark, read from its cells' run directories.

One row per (dataset, seed, fold, model, metric): ``fold`` is the split's position in
the run (repeat x folds + fold) for the per-fold figures (AUC from ``metrics.json``,
Brier from the out-of-fold predictions) and null for the run's figures over all its
out-of-fold predictions, which the statistics rank (the leaderboard's accuracy and
fairness columns, the share of planted-truth checks recovered, and the paired DeLong
test of each model against the control). Nothing is refitted or re-audited: every value
is a stage's own output, read through :func:`scorelab.runs.load_run`.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from scorelab.benchmark.config import METRICS
from scorelab.evaluate.compare import delong_test
from scorelab.runs.reader import RunData

__all__ = ["RESULT_COLUMNS", "cell_results", "split_hash"]

RESULT_COLUMNS = ["dataset", "seed", "fold", "model", "metric", "value"]


def split_hash(run: RunData) -> str:
    """A fingerprint of the run's folds (who was in which test fold, every repeat)."""
    pred = run.predictions
    first = pred[pred["model"] == pred["model"].iloc[0]]
    table = first[["citizen_id", "repeat", "fold"]].sort_values(
        ["repeat", "citizen_id"]).to_numpy(dtype=np.int64)
    return hashlib.sha256(table.tobytes()).hexdigest()[:16]


def _validity_share(run: RunData) -> dict[str, float]:
    """Per model: passed / rated planted-truth checks (synthetic populations only)."""
    if run.validity is None or not run.validity.get("checks"):
        return {}
    checks = pd.DataFrame(run.validity["checks"])
    rated = checks[checks["passed"].notna()]
    return rated.groupby("model")["passed"].mean().astype(float).to_dict()


def _pooled(run: RunData, control: str) -> pd.DataFrame:
    board = run.leaderboard.set_index("model")
    validity = _validity_share(run)
    parts = []
    for metric in METRICS.values():
        if metric.name == "validity_share":
            values = pd.Series({m: validity.get(m, np.nan) for m in board.index})
        elif metric.column in board:
            values = pd.to_numeric(board[metric.column], errors="coerce")
        else:
            values = pd.Series(np.nan, index=board.index)
        parts.append(pd.DataFrame({"model": board.index, "metric": metric.name,
                                   "value": values.to_numpy(dtype=float)}))
    parts.append(_against_control(run, control))
    return pd.concat(parts, ignore_index=True)


def _against_control(run: RunData, control: str) -> pd.DataFrame:
    """DeLong's paired test of every model against the control on the first repeat's
    out-of-fold predictions: the AUC difference and its two-sided p-value."""
    pred = run.predictions
    pred = pred[pred["repeat"] == 0]
    wide = pred.pivot(index="citizen_id", columns="model", values="p_default")
    if control not in wide:
        return pd.DataFrame(columns=["model", "metric", "value"])
    y = pred.drop_duplicates("citizen_id").set_index("citizen_id")["defaulted"]
    y = y.reindex(wide.index).to_numpy()
    rows = []
    for model in wide.columns:
        test = delong_test(y, wide[model].to_numpy(), wide[control].to_numpy())
        rows += [(model, "auc_diff_vs_control", test["diff"]),
                 (model, "p_vs_control", test["p_value"])]
    return pd.DataFrame(rows, columns=["model", "metric", "value"])


def _per_fold(run: RunData) -> pd.DataFrame:
    auc = pd.DataFrame(run.metrics["fold_auc"]).drop(columns="split")
    auc = auc.rename_axis("fold").reset_index().melt(id_vars="fold", var_name="model",
                                                     value_name="value")
    auc["metric"] = "auc"
    pred = run.predictions
    folds = int(pred["fold"].max()) + 1
    err = (pred["p_default"] - pred["defaulted"]) ** 2
    brier = err.groupby([pred["model"], pred["repeat"] * folds + pred["fold"]]).mean()
    brier = brier.rename_axis(["model", "fold"]).rename("value").reset_index()
    brier["metric"] = "brier"
    return pd.concat([auc, brier], ignore_index=True)


def cell_results(run: RunData, dataset: str, seed: int, control: str) -> pd.DataFrame:
    """The long results of one cell (see the module doc)."""
    pooled = _pooled(run, control).assign(fold=pd.NA)
    folds = _per_fold(run)
    table = pd.concat([pooled, folds], ignore_index=True).assign(dataset=dataset, seed=seed)
    table["fold"] = table["fold"].astype("Int64")
    table["seed"] = table["seed"].astype("int64")
    table["value"] = table["value"].astype(float)
    return table[RESULT_COLUMNS]
