"""Model cards in the report: what a reader of one model needs before trusting it.

The card the run saved beside the model (card.json: intended use, limits) joined with
what the report knows of it (family, parameters, inputs, out-of-fold accuracy,
decisions, the four-fifths screen with its significance) and the family's deliverable
tables (a scorecard's binning and points, an expert's rules), shortened to a screen
with the whole table named beside it.
"""

from __future__ import annotations

import re
from typing import Any

from scorelab.core.jsonable import dumps
from scorelab.exceptions import DataError
from scorelab.report.blocks import details, fmt, interval, pct, table
from scorelab.report.context import ReportContext
from scorelab.report.sections.verdict import disparity, screen_of
from scorelab.runs.contract import ModelCard

__all__ = ["card_anchor", "model_card"]

#: Rows of a family's deliverable table shown in the report (the CSV holds them all).
MAX_DELIVERABLE_ROWS = 40


def _parameters(params: dict[str, Any]) -> str:
    if not params:
        return "none set in the config (the family's defaults)"
    shown = []
    for key, value in params.items():
        value_text = dumps(value, indent=None)
        shown.append(f"{key} = {value_text if len(value_text) <= 60 else value_text[:57] + '...'}")
    return "; ".join(shown)


def card_anchor(name: str) -> str:
    """The HTML id of a model's card (page one links each model name to it); a model's
    name may hold any character, an id only these."""
    return "card-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _saved_card(ctx: ReportContext, name: str) -> ModelCard | str | None:
    """The model's card.json (None when models were not saved; the reason, one line,
    when it cannot be read: one damaged card never stops the report)."""
    if not (ctx.run.run_dir / "models" / name / "card.json").is_file():
        return None
    try:
        return ctx.run.model_card(name)
    except DataError as exc:
        return str(exc)


def model_card(ctx: ReportContext, name: str) -> dict[str, Any]:
    """One model's card, collapsed: intended use and limits (from its card.json),
    family, parameters, inputs, accuracy, decisions, verdicts, deliverable tables."""
    info = next(m for m in ctx.run.study.models if m.name == name)
    screens = {a: screen_of(row, ctx.four_fifths) for a in ctx.attributes
               if (row := disparity(ctx, name, a)) is not None}
    saved = _saved_card(ctx, name)
    rows = ([["card.json", f"unreadable: {saved}"]] if isinstance(saved, str) else
            [["intended use", saved.intended_use]] if saved is not None else [])
    rows += [["limits", " ".join(saved.limits)]] \
        if isinstance(saved, ModelCard) and saved.limits else []
    rows += [["family / kind / role", f"{info.family} / {info.kind} / {info.role}"],
            ["parameters", _parameters(info.params)],
            ["inputs", f"{len(info.inputs)}: {', '.join(info.inputs)}"],
            ["trained on", ctx.population_words],
            ["out-of-fold accuracy",
             f"AUC {interval(*(ctx.metric(name, k) for k in ('auc', 'auc_low', 'auc_high')))}"
             f", KS {fmt(ctx.metric(name, 'ks'))}, Brier {fmt(ctx.metric(name, 'brier'))}"],
            ["decisions", f"approves {pct(ctx.metric(name, 'approval_rate'))}, of whom "
                          f"{pct(ctx.metric(name, 'default_rate_approved'))} default"]]
    if screens:  # the screen page one reads, with its significance
        rows.append(["four-fifths screen", "; ".join(f"{a}: {v}" for a, v in
                                                      screens.items())])
    blocks = [table(["", ""], rows, align=["left", "left"])]
    tables = ctx.run.model_tables(name)
    if "binning.csv" in tables:
        t = tables["binning.csv"]
        blocks.append(table(["input", "bins", "information value", "selected"],
                            [[r["variable"], fmt(r["n_bins"], ".0f"),
                              fmt(r["information_value"]), fmt(bool(r["selected"]))]
                             for r in t.to_dict("records")],
                            title="Binning: information value per input",
                            csv=f"models/{name}/binning.csv"))
    points = tables.get("points_table.csv")
    if points is not None and {"variable", "bin", "count", "woe", "points"} <= set(points):
        t = tables.pop("points_table.csv")
        t = t[t["count"] > 0]
        blocks.append(table(["input", "bin", "applicants", "weight of evidence", "points"],
                            [[r["variable"], r["bin"], fmt(r["count"], ".0f"), fmt(r["woe"]),
                              fmt(r["points"], "+.1f")] for r in t.to_dict("records")],
                            title="Points table", csv=f"models/{name}/points_table.csv",
                            align=["left", "left", "right", "right", "right"]))
    for file_name, t in tables.items():  # any other table of the family, as it is
        if file_name == "binning.csv":
            continue
        title = "Rule table" if file_name == "rules.csv" else \
            file_name.removesuffix(".csv").replace("_", " ").capitalize()
        shown = t.head(MAX_DELIVERABLE_ROWS)
        blocks.append(table([str(c).replace("_", " ") for c in t.columns],
                            [[fmt(v, "g") for v in r] for r in shown.values.tolist()],
                            title=title, csv=f"models/{name}/{file_name}",
                            caption=(f"The first {len(shown):,} of {len(t):,} rows; the "
                                     f"whole table is models/{name}/{file_name}."
                                     if len(shown) < len(t) else None)))
    return details(f"Model card: {name} ({info.family}, AUC {fmt(ctx.metric(name, 'auc'))})",
                   blocks, anchor=card_anchor(name))


