"""Section 7, policy checks and model cards: which models use protected or prohibited
inputs, directly or through their weight, and one card per model (collapsed)."""

from __future__ import annotations

from typing import Any

from scorelab.core.jsonable import dumps
from scorelab.report.blocks import (
    Section,
    details,
    fmt,
    get,
    interval,
    light,
    pct,
    table,
    text,
)
from scorelab.report.context import ReportContext
from scorelab.report.sections.overview import direct_inputs

__all__ = ["policy"]

#: Rows of a family's deliverable table shown in the report (the CSV holds them all).
MAX_DELIVERABLE_ROWS = 40


def _flags(ctx: ReportContext) -> dict[str, dict[str, list[str]]]:
    """Per model, its direct inputs and (with their share) the weight-carrying ones."""
    def weight(f: dict[str, Any]) -> str:
        share = f.get("share")
        return str(f.get("column")) + (f" ({pct(share, 0)} of its importance)"
                                       if share is not None else "")

    return {m: {"direct": direct_inputs(ctx, m),
                "weight": [weight(f) for f in ctx.policy_flags(m, direct=False)]}
            for m in ctx.order}


def _parameters(params: dict[str, Any]) -> str:
    if not params:
        return "none set in the config (the family's defaults)"
    shown = []
    for key, value in params.items():
        value_text = dumps(value, indent=None)
        shown.append(f"{key} = {value_text if len(value_text) <= 60 else value_text[:57] + '...'}")
    return "; ".join(shown)


def _card(ctx: ReportContext, name: str) -> dict[str, Any]:
    info = next(m for m in ctx.run.study.models if m.name == name)
    verdicts = get(ctx.fair_models().get(name), "verdicts", default={}) or {}
    observed = {k.split(":", 1)[1]: v for k, v in verdicts.items() if k.startswith("observed:")}
    rows = [["family / kind / role", f"{info.family} / {info.kind} / {info.role}"],
            ["parameters", _parameters(info.params)],
            ["inputs", f"{len(info.inputs)}: {', '.join(info.inputs)}"],
            ["trained on", ctx.population_words],
            ["out-of-fold accuracy",
             f"AUC {interval(ctx.metric(name, 'auc'), ctx.metric(name, 'auc_low'), ctx.metric(name, 'auc_high'))}, "
             f"KS {fmt(ctx.metric(name, 'ks'))}, Brier {fmt(ctx.metric(name, 'brier'))}"],
            ["decisions", f"approves {pct(ctx.metric(name, 'approval_rate'))}, of whom "
                          f"{pct(ctx.metric(name, 'default_rate_approved'))} default"]]
    if observed:
        rows.append(["four-fifths verdicts", ", ".join(f"{a}: {v}" for a, v in
                                                        observed.items())])
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
                   blocks)


def policy(ctx: ReportContext) -> Section:
    flags = _flags(ctx)
    blocks: list[dict[str, Any]] = []
    if ctx.fairness is not None:
        rows = []
        for m in ctx.order:
            direct, weight = flags[m]["direct"], flags[m]["weight"]
            rows.append([m, light("fail" if direct else "pass", ", ".join(direct) or "none"),
                         light("warn" if weight else "pass", ", ".join(weight) or "none")])
        blocks.append(table(["model", "protected or prohibited inputs used directly",
                             "inputs carrying a protected attribute's weight"], rows,
                            title="Protected and prohibited inputs",
                            align=["left", "left", "left"]))
        n_direct = sum(bool(f["direct"]) for f in flags.values())
        summary = (f"The seed paper asks that some facts never count against a citizen "
                   f"(protected attributes, and what the config lists as prohibited). "
                   f"{n_direct} of {len(ctx.order)} models use such an input directly. A card "
                   f"per model follows: its parameters, inputs, accuracy and verdicts.")
    else:
        blocks.append(text("Protected and prohibited inputs were not checked: the run has "
                           "no fairness audit."))
        summary = "One card per model: its parameters, inputs and accuracy."
    blocks += [_card(ctx, m) for m in ctx.order]
    return Section("policy", "Policy checks and model cards", summary, blocks)
