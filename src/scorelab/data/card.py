"""The data card: what a population holds, who is in it and how often they default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from scorelab.core.numeric import auc
from scorelab.data.groups import group_column
from scorelab.data.synthetic import Population


def build_data_card(pop: Population, age_edges: Sequence[float],
                    extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Columns with source/kind/role, group sizes, default rates and the oracle AUC."""
    frame, schema = pop.frame, pop.schema
    target = schema.target
    has_truth = "true_default" in frame and "true_pd" in frame
    card: dict[str, Any] = {
        "n_citizens": int(len(frame)),
        "meta": dict(pop.meta),
        "observed_default_rate": float(frame[target].mean()),
    }
    if has_truth:
        card["true_default_rate"] = float(frame["true_default"].mean())
        card["oracle_auc"] = _auc_or_none(frame[target], frame["true_pd"])
        card["oracle_auc_true_outcome"] = _auc_or_none(frame["true_default"], frame["true_pd"])
    missing = frame.isna().mean()
    card["columns"] = [
        {"name": c.name, "source": c.source, "kind": c.kind, "role": c.role,
         "dtype": str(frame[c.name].dtype), "missing_share": round(float(missing[c.name]), 4),
         "description": c.description}
        for c in schema.columns
    ]
    card["groups"] = {}
    age_column = pop.meta.get("age_column", "age")
    for attribute in schema.with_role("protected"):
        groups = group_column(frame, attribute, age_edges, age_column)
        rates = {"observed_default_rate": frame[target]}
        if has_truth:
            rates["true_default_rate"] = frame["true_default"]
        table = pd.DataFrame(rates).groupby(groups, observed=False).agg(["size", "mean"])
        rows = []
        for group, row in table.iterrows():
            entry: dict[str, Any] = {"group": str(group),
                                     "n": int(row[("observed_default_rate", "size")])}
            entry["share"] = round(entry["n"] / len(frame), 4)
            for key in rates:
                value = row[(key, "mean")]
                entry[key] = None if pd.isna(value) else round(float(value), 4)
            rows.append(entry)
        card["groups"][str(groups.name)] = rows
    if "quality" in card["meta"]:  # a table's data-quality findings, one line each
        card["quality"] = card["meta"].pop("quality")
    if extra:
        card.update(extra)
    return card


def _auc_or_none(y: pd.Series, score: pd.Series) -> float | None:
    """AUC, or None when the outcome has one class only (no ranking to judge)."""
    return auc(y.to_numpy() == y.max(), score.to_numpy()) if y.nunique() == 2 else None


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "n/a (one class)" if value is None else format(value, spec)


def render_data_card_markdown(card: Mapping[str, Any], title: str = "Data card",
                              columns: bool = True) -> str:
    """The data card as Markdown, for terminals and diffs (``columns=False``: no column list)."""
    lines = [f"# {title}", ""]
    lines.append(f"- citizens: {card['n_citizens']:,}")
    lines.append(f"- observed default rate: {card['observed_default_rate']:.1%}")
    if "true_default_rate" in card:
        lines.append(f"- true default rate: {card['true_default_rate']:.1%}")
        lines.append(f"- oracle AUC (true_pd vs observed outcome): {_fmt(card['oracle_auc'])}")
        lines.append(f"- oracle AUC (true_pd vs true outcome): "
                     f"{_fmt(card['oracle_auc_true_outcome'])}")
    for key in ("seed", "config_hash"):
        if key in card.get("meta", {}):
            lines.append(f"- {key}: {card['meta'][key]}")
    lines += ["", "## Default rates by group", ""]
    has_truth = "true_default_rate" in card
    for attribute, rows in card["groups"].items():
        header = "| " + attribute + " | n | share | observed default |"
        header += " true default |" if has_truth else ""
        lines += [header, "|---|---:|---:|---:|" + ("---:|" if has_truth else "")]
        for row in rows:
            obs = row["observed_default_rate"]
            line = (f"| {row['group']} | {row['n']:,} | {row['share']:.1%} | "
                    f"{'suppressed' if obs is None else f'{obs:.1%}'} |")
            if has_truth:
                true = row["true_default_rate"]
                line += f" {'-' if true is None else f'{true:.1%}'} |"
            lines.append(line)
        lines.append("")
    if "quality" in card:
        lines += ["## Data quality", ""]
        lines += [f"- {f['message']}" for f in card["quality"]] or \
            ["- no finding (the checks: scorelab.data.quality)"]
        lines.append("")
    if not columns:
        return "\n".join(lines) + "\n"
    lines += ["## Columns", "", "| column | source | kind | role | missing | description |",
              "|---|---|---|---|---:|---|"]
    for col in card["columns"]:
        lines.append(f"| {col['name']} | {col['source']} | {col['kind']} | {col['role']} | "
                     f"{col['missing_share']:.1%} | {col['description']} |")
    if "causes" in card:
        lines += ["", "## Planted causes", ""]
        for name, setting in card["causes"].items():
            lines.append(f"- {name}: {setting}")
    return "\n".join(lines) + "\n"
