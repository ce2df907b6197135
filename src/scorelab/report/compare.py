"""Compare runs model by model: metric and fairness differences, without retraining.

``compare_runs([run_a, run_b, ...])`` returns one row per (model, metric) with the
value in every run and the difference of each later run to the first. Models are
matched by name; a model missing from a run shows as NaN there.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader

from scorelab.exceptions import DataError
from scorelab.runs.reader import RunData, load_run
from scorelab.report.render import fmt, md_escape

__all__ = ["COMPARED_METRICS", "compare_html", "compare_markdown", "compare_runs",
           "compare_table"]

#: Leaderboard columns compared (higher is better unless listed in LOWER_IS_BETTER).
COMPARED_METRICS = ("auc", "auc_true", "ks", "brier", "ece", "approval_rate",
                    "default_rate_approved")
LOWER_IS_BETTER = {"brier", "ece", "default_rate_approved", "log_loss"}


def _fairness_metrics(run: RunData) -> dict[str, dict[str, float]]:
    """Per model, the fairness numbers a run's fairness.json summarises (if any)."""
    out: dict[str, dict[str, float]] = {}
    fair = run.fairness or {}
    summary = fair.get("summary") or fair.get("models") or {}
    if isinstance(summary, dict):
        for model, values in summary.items():
            if isinstance(values, dict):
                out[str(model)] = {f"fairness.{k}": float(v) for k, v in values.items()
                                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return out


def _labels(runs: Sequence[RunData]) -> list[str]:
    labels = [str(r.manifest.get("run_id", r.run_dir.name)) for r in runs]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def compare_runs(run_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """One row per model and metric: the value in each run and the difference to the first.

    Columns: ``model``, ``metric``, one column per run (its run id), and
    ``delta <run id>`` for every run after the first (that run minus the first).
    The frame's ``attrs["runs"]`` lists the run ids in order.
    """
    if len(run_dirs) < 2:
        raise DataError(f"compare needs at least two run directories, got {len(run_dirs)}")
    runs = [load_run(d) for d in run_dirs]
    labels = _labels(runs)
    values: dict[tuple[str, str], dict[str, float]] = {}
    order: list[str] = []
    for run, label in zip(runs, labels, strict=True):
        board = run.leaderboard.set_index("model")
        fairness = _fairness_metrics(run)
        for model in board.index:
            if model not in order:
                order.append(model)
            for metric in COMPARED_METRICS:
                if metric in board.columns:
                    values.setdefault((model, metric), {})[label] = float(board.at[model, metric])
            for metric, value in fairness.get(model, {}).items():
                values.setdefault((model, metric), {})[label] = value
    rows = []
    for model in order:
        for (m, metric), per_run in values.items():
            if m != model:
                continue
            row: dict[str, Any] = {"model": model, "metric": metric}
            for label in labels:
                row[label] = per_run.get(label, np.nan)
            for label in labels[1:]:
                row[f"delta {label}"] = row[label] - row[labels[0]]
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["model", "metric", *labels,
                                        *[f"delta {label}" for label in labels[1:]]])
    frame.attrs["runs"] = labels
    return frame


def _cells(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    columns = [str(c) for c in frame.columns]
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for c in frame.columns:
            v = record[c]
            if str(c).startswith("delta ") and isinstance(v, float) and np.isfinite(v):
                row.append(f"{v:+.3f}")
            else:
                row.append(fmt(v))
        rows.append(row)
    return columns, rows


def compare_markdown(frame: pd.DataFrame) -> str:
    """The comparison as a Markdown table (names escaped)."""
    columns, rows = _cells(frame)
    lines = ["# Run comparison", "",
             "Differences are each run minus the first run; models are matched by name. "
             f"For {', '.join(m for m in COMPARED_METRICS if m in LOWER_IS_BETTER)} lower "
             "is better.", "",
             "| " + " | ".join(md_escape(c) for c in columns) + " |",
             "|" + "|".join("---" if i < 2 else "---:" for i in range(len(columns))) + "|"]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Run comparison</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}
th,td{border-bottom:1px solid #ccc;padding:.2rem .5rem}td.num{text-align:right;
font-variant-numeric:tabular-nums}</style></head><body>
<h1>Run comparison</h1>
<p>Differences are each run minus the first run; models are matched by name.</p>
<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for cell in row %}<td{% if loop.index0 >= 2 %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>
"""


def compare_html(frame: pd.DataFrame) -> str:
    """The comparison as a self-contained, autoescaped HTML page."""
    columns, rows = _cells(frame)
    env = Environment(loader=PackageLoader("scorelab.report", "templates"), autoescape=True)
    return env.from_string(_HTML).render(columns=columns, rows=rows)


def compare_table(frame: pd.DataFrame) -> Any:
    """The comparison as a rich Table for the ``scorelab compare`` command."""
    from rich.table import Table
    from rich.text import Text

    columns, rows = _cells(frame)
    table = Table(title="Run comparison (later runs minus the first; models matched by name)")
    for i, c in enumerate(columns):
        table.add_column(Text(c), justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*[Text(cell) for cell in row])  # Text: names are never markup
    return table
