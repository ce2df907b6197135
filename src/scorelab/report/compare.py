"""Compare runs model by model: accuracy and fairness differences with their intervals,
the config keys that changed and whether the data did, without retraining anything.

:func:`compare_runs` reads every run through the validating reader and returns a
:class:`Comparison`; it renders as a terminal table, Markdown, HTML or JSON. A
difference counts as larger than its interval when it exceeds the half-width of the
difference of two independent estimates, ``sqrt(h_a**2 + h_b**2)`` (conservative for
runs on the same citizens, whose estimates are positively correlated).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment

from scorelab.core.jsonable import jsonable
from scorelab.exceptions import DataError
from scorelab.report.blocks import finite, fmt, get, md_escape, records
from scorelab.runs.reader import RunData, load_run

__all__ = ["COMPARED", "Comparison", "Defaulted", "compare_html", "compare_markdown",
           "compare_runs", "compare_table", "config_changes"]

#: (key, words, lower is better). Accuracy comes from metrics.json, fairness from the
#: leaderboard's fairness columns.
COMPARED = (("auc", "AUC", False), ("ks", "KS", False), ("brier", "Brier", True),
            ("worst_approval_ratio", "worst four-fifths ratio", False),
            ("age_approval_ratio", "young / rest approval", False),
            ("worst_equalized_odds_difference", "equalized-odds difference", True),
            ("age_score_gap", "age score gap (points)", False))
#: Keys of the config that cannot change a number of the run.
IGNORED_KEYS = ("output.runs_dir",)
Z95 = 1.959964


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a config; models are keyed by name (``models[lightgbm].params.x``)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, Mapping) and "name" in v
                                                 for v in value):
        out = {}
        for v in value:
            out.update(_flatten({k: x for k, x in v.items() if k != "name"},
                                f"{prefix}[{v['name']}]"))
        return out
    return {prefix: value}


@dataclass(frozen=True)
class Defaulted:
    """A model parameter one config leaves out: the value its model was built with (the
    family's default, or sized to the table; read from the model card), when known."""

    value: Any = None
    known: bool = False

    def __repr__(self) -> str:
        return f"{self.value!r} (default)" if self.known else "(default)"

    __str__ = __repr__


#: A model parameter's key in a flattened config.
_MODEL_PARAM = re.compile(r"^models\[(?P<model>.+)\]\.params\.(?P<param>[^.\[]+)$")


def config_changes(a: Mapping[str, Any], b: Mapping[str, Any],
                   default_a: Callable[[str], Any] | None = None,
                   default_b: Callable[[str], Any] | None = None
                   ) -> list[tuple[str, Any, Any]]:
    """(key, value in a, value in b) for every config key that differs; a key one config
    lacks is ``default_a(key)`` / ``default_b(key)`` when given, else None."""
    fa, fb = _flatten(a), _flatten(b)
    keys = sorted(k for k in set(fa) | set(fb)
                  if fa.get(k) != fb.get(k) and not k.startswith(IGNORED_KEYS))

    def value(flat: dict[str, Any], key: str, default: Callable[[str], Any] | None) -> Any:
        if key in flat or default is None:
            return flat.get(key)
        return default(key)

    return [(k, value(fa, k, default_a), value(fb, k, default_b)) for k in keys]


def _defaulted(run: RunData) -> Callable[[str], Any]:
    """A model parameter the run's config leaves out: its value from the model card."""
    def default(key: str) -> Any:
        match = _MODEL_PARAM.match(key)
        if match is None:
            return None
        try:
            parameters = run.model_card(match["model"]).parameters
        except DataError:  # the run saved no such model (output.save_models: none)
            return Defaulted()
        param = match["param"]
        return Defaulted(parameters[param], True) if param in parameters else Defaulted()
    return default


def _plain_change(value: Any) -> Any:
    return str(value) if isinstance(value, Defaulted) else value


def _binomial_ratio_halfwidth(p1: float, n1: float, p2: float, n2: float) -> float:
    """Half-width of a 95% interval of p1 / p2 (delta method on the log ratio)."""
    if not (p1 > 0 and p2 > 0 and n1 > 0 and n2 > 0):
        return math.nan
    se_log = math.sqrt((1 - p1) / (p1 * n1) + (1 - p2) / (p2 * n2))
    return Z95 * se_log * p1 / p2


def _group_sizes(run: RunData, model: str) -> dict[tuple[str, str], float]:
    groups = run.fairness_by_group
    if groups is None:
        return {}
    part = groups[(groups["model"] == model) & (groups["metric"] == "approval_rate")
                  & (groups["outcome"] == "observed")]
    return {(str(a), str(g)): float(n) for a, g, n in
            zip(part["attribute"], part["group"], part["n"], strict=True)}


def _values(run: RunData) -> dict[str, dict[str, tuple[float, float]]]:
    """model -> metric -> (value, interval half-width or NaN)."""
    board = run.leaderboard.set_index("model")
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for model in board.index:
        row: dict[str, tuple[float, float]] = {}
        m = get(run.metrics, "models", model, default={}) or {}
        for key in ("auc", "ks", "brier"):
            low, high = (get(m, "intervals", key) or [None, None])[:2]
            half = (float(high) - float(low)) / 2 if finite(low) and finite(high) else np.nan
            value = get(m, "observed", key)
            row[key] = (float(value) if finite(value) else np.nan, half)
        fair = get(run.fairness, "models", model, default={}) or {}
        worst = [r for r in records(fair.get("disparities")) if r.get("outcome") == "observed"
                 and finite(r.get("worst_approval_ratio"))]
        if worst:
            w = min(worst, key=lambda r: r["worst_approval_ratio"])
            sizes = _group_sizes(run, model)
            half = _binomial_ratio_halfwidth(
                float(w["approval_low"]), sizes.get((w["attribute"], str(w["lowest_group"])), 0),
                float(w["approval_high"]), sizes.get((w["attribute"],
                                                      str(w["highest_group"])), 0))
            row["worst_approval_ratio"] = (float(w["worst_approval_ratio"]), half)
        age = fair.get("age") or {}
        if finite(age.get("approval_ratio")):
            limit = get(run.fairness, "thresholds", "age_bands", default=[0, 0])
            cut = next((r for r in records(age.get("cut_sweep"))
                        if len(limit) > 1 and r.get("cut") == int(limit[1]) - 1), None)
            half = _binomial_ratio_halfwidth(
                float(age["approval_young"]), float(cut["n_young"]),
                float(age["approval_rest"]), float(cut["n_rest"])) if cut else np.nan
            row["age_approval_ratio"] = (float(age["approval_ratio"]), half)
        for key in ("worst_equalized_odds_difference", "age_score_gap"):
            if key in board.columns and finite(board.at[model, key]):
                row[key] = (float(board.at[model, key]), np.nan)
        out[str(model)] = row
    return out


@dataclass
class Comparison:
    """Runs compared with the first: per model and metric, the values, the difference
    and whether it is larger than its interval; the config changes; the data check."""

    runs: list[str]
    rows: pd.DataFrame
    config_changes: dict[str, list[tuple[str, Any, Any]]]
    fingerprints: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def same_data(self) -> bool:
        return len(set(self.fingerprints.values())) == 1

    @property
    def identical(self) -> bool:
        """Same data, same config, the same models and every compared number equal."""
        return (self.same_data and not self.notes and not any(self.config_changes.values())
                and self.changed_rows().empty)

    def changed_rows(self) -> pd.DataFrame:
        """Rows where some later run differs from the first."""
        deltas = self.rows[[c for c in self.rows.columns if c.startswith("delta ")]]
        moved = (deltas.fillna(0.0) != 0).any(axis=1) | self.rows[self.runs].isna().any(
            axis=1) & self.rows[self.runs].notna().any(axis=1)
        return self.rows[moved]

    def as_dict(self) -> dict[str, Any]:
        return jsonable({"runs": self.runs, "identical": self.identical,
                         "same_data": self.same_data, "fingerprints": self.fingerprints,
                         "config_changes": {run: [{"key": k, "before": _plain_change(a),
                                                   "after": _plain_change(b)}
                                                  for k, a, b in changes]
                                            for run, changes in self.config_changes.items()},
                         "notes": self.notes, "rows": self.rows.to_dict("records")})


def _labels(runs: Sequence[RunData]) -> list[str]:
    labels = [str(r.manifest.get("run_id", r.run_dir.name)) for r in runs]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def compare_runs(run_dirs: Sequence[str | Path]) -> Comparison:
    """Compare two or more runs with the first (the baseline), models matched by name."""
    if len(run_dirs) < 2:
        raise DataError(f"compare needs at least two run directories, got {len(run_dirs)}")
    runs = [load_run(d) for d in run_dirs]
    labels = _labels(runs)
    values = [_values(r) for r in runs]
    models = list(dict.fromkeys(m for v in values for m in v))
    rows = []
    for model in models:
        for key, name, lower in COMPARED:
            cells = [v.get(model, {}).get(key, (np.nan, np.nan)) for v in values]
            if all(not np.isfinite(c[0]) for c in cells):
                continue
            row: dict[str, Any] = {"model": model, "metric": name, "lower_is_better": lower}
            for label, (value, _) in zip(labels, cells, strict=True):
                row[label] = value
            base_value, base_half = cells[0]
            for label, (value, half) in zip(labels[1:], cells[1:], strict=True):
                delta = value - base_value
                bound = math.hypot(base_half, half)
                row[f"delta {label}"] = delta
                row[f"beyond interval {label}"] = (bool(abs(delta) > bound)
                                                   if np.isfinite(bound) and np.isfinite(delta)
                                                   else None)
            rows.append(row)
    frame = pd.DataFrame(rows)
    changes = {label: config_changes(runs[0].config, r.config, _defaulted(runs[0]),
                                     _defaulted(r))
               for label, r in zip(labels[1:], runs[1:], strict=True)}
    fingerprints = {label: str(r.manifest.get("data_fingerprint"))
                    for label, r in zip(labels, runs, strict=True)}
    notes = []
    if len(set(fingerprints.values())) > 1:
        notes.append("WARNING: the runs are on different data (data fingerprints differ), "
                     "so their differences mix the models with the data.")
    for label, later in zip(labels[1:], values[1:], strict=True):
        missing = sorted(set(values[0]) ^ set(later))
        if missing:
            notes.append(f"models in only one of {labels[0]} and {label}: "
                         f"{', '.join(missing)}")
    return Comparison(labels, frame, changes, fingerprints, notes)


# --------------------------------------------------------------------------- rendering

def _delta_text(row: Mapping[str, Any], label: str) -> str:
    delta = row.get(f"delta {label}")
    if not finite(delta):
        return "-"
    beyond = row.get(f"beyond interval {label}")
    mark = {True: " (beyond interval)", False: " (within interval)"}.get(beyond, "")
    return f"{float(delta):+.3f}{mark}"


def _cells(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    first, later = comparison.runs[0], comparison.runs[1:]
    columns = ["model", "metric", first] + [c for label in later
                                            for c in (label, f"change in {label}")]
    rows = []
    for row in comparison.changed_rows().to_dict("records"):
        cells = [str(row["model"]), str(row["metric"]), fmt(row[first])]
        for label in later:
            cells += [fmt(row[label]), _delta_text(row, label)]
        rows.append(cells)
    return columns, rows


def _headline(comparison: Comparison) -> list[str]:
    first = comparison.runs[0]
    if comparison.identical:
        return [f"identical: {', '.join(comparison.runs[1:])} gave the same numbers as "
                f"{first} on the same data with the same config"]
    lines = list(comparison.notes)
    for label, changes in comparison.config_changes.items():
        if changes:
            lines.append(f"config of {label} against {first}: " + "; ".join(
                f"{k}: {a!r} → {b!r}" for k, a, b in changes))
        else:
            lines.append(f"config of {label}: same as {first}")
    unchanged = sorted(set(comparison.rows["model"]) - set(comparison.changed_rows()["model"]))
    if unchanged:
        lines.append(f"unchanged in every compared metric: {', '.join(unchanged)}")
    return lines


def compare_markdown(comparison: Comparison) -> str:
    """The comparison as Markdown (names escaped)."""
    columns, rows = _cells(comparison)
    lines = ["# Run comparison", "", f"Baseline: {md_escape(comparison.runs[0])}; changes "
             "are each run minus the baseline, models matched by name.", ""]
    lines += [f"- {md_escape(line)}" for line in _headline(comparison)] + [""]
    if rows:
        lines += ["| " + " | ".join(md_escape(c) for c in columns) + " |",
                  "|" + "|".join("---" if i < 2 else "---:" for i in range(len(columns)))
                  + "|"]
        lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Run comparison</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;max-width:1180px}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ccc;padding:.2rem .5rem;
overflow-wrap:anywhere}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{color:#b42318;font-weight:600}</style></head><body>
<h1>Run comparison</h1>
<p>Baseline: <code>{{ runs[0] }}</code>; changes are each run minus the baseline, models
matched by name.</p>
<ul>{% for line in headline %}<li{% if line.startswith("WARNING") %} class="warn"{% endif %}>{{ line }}</li>{% endfor %}</ul>
{% if rows %}<table><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for cell in row %}<td{% if loop.index0 >= 2 %} class="num"{% endif %}>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% endif %}</body></html>
"""


def compare_html(comparison: Comparison) -> str:
    """The comparison as a self-contained, autoescaped HTML page."""
    columns, rows = _cells(comparison)
    return Environment(autoescape=True).from_string(_HTML).render(
        runs=comparison.runs, headline=_headline(comparison), columns=columns, rows=rows)


def compare_table(comparison: Comparison) -> Any:
    """The comparison for the terminal: the headline lines, then the changed rows."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    columns, rows = _cells(comparison)
    parts: list[Any] = [Text(line, style="bold red" if line.startswith("WARNING") else "")
                        for line in _headline(comparison)]
    if rows:
        table = Table(title=f"Changes against {comparison.runs[0]} (models matched by name)")
        for i, c in enumerate(columns):
            table.add_column(Text(c), justify="left" if i < 2 else "right")
        for row in rows:
            table.add_row(*[Text(cell) for cell in row])  # Text: names are never markup
        parts.append(table)
    return Group(*parts)
