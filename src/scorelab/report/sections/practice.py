"""Section 3, credit practice: each model under the three decision policies (fixed
cut-off, matched approval rate, cost-minimising cut-off), what its decisions cost,
fairness compared like with like, and how stable the scored population is.

Everything is read from ``metrics.json`` (field ``practice``), ``fairness.json``
(field ``matched_rate``) and the leaderboard; a run without them has no such section.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from scorelab.report import plots
from scorelab.report.blocks import (
    Section,
    details,
    figure,
    finite,
    fmt,
    fmt_p,
    get,
    interval,
    light,
    pct,
    table,
    text,
)
from scorelab.report.context import ReportContext
from scorelab.report.sections.overview import screened_disparity
from scorelab.report.sections.verdict import SCREEN_LIGHT, ratio_text, screen_of
from scorelab.runs.contract import SCREEN_BELOW, SCREEN_NOT_ASSESSED, SCREEN_SIGNIFICANT

__all__ = ["policy_cells", "practice"]

POLICY_WORDS = {
    "cutoff": "the fixed cut-off score",
    "approval_rate": "a matched approval rate (every model approves the same share)",
    "cost": "each fold's cost-minimising cut-off, chosen on its training citizens only",
}
#: What a screen's light leaves unsaid (the light itself says fail / warn / pass).
SCREEN_WORDS = {SCREEN_SIGNIFICANT: "(significant)", SCREEN_BELOW: "(not significant)"}
#: Traffic light of a PSI as a report status.
STATUS = {"green": "pass", "amber": "warn", "red": "fail"}


def _lit(value: Any, colour: Any) -> dict[str, str]:
    """A PSI cell: the value and its light, coloured as a status."""
    return {"text": f"{fmt(value)} {colour}", "status": STATUS.get(str(colour), "n/a")}


def _policy_rows(ctx: ReportContext, practice: dict[str, Any], costed: bool
                 ) -> list[list[Any]]:
    rows = []
    for m in ctx.order:
        policies = get(practice, "models", m, "policies", default={}) or {}
        for name in ("cutoff", "approval_rate", "cost"):
            p = policies.get(name)
            if not isinstance(p, dict):
                continue
            label = name.replace("_", " ") + (" (decides)" if name == practice["policy"]
                                              else "")
            rows.append([m, label, *policy_cells(p, costed)])
    return rows


def policy_cells(policy: dict[str, Any], costed: bool) -> list[str]:
    """One policy of one model as table cells: cut-off, approved, bad among approved and,
    when the run has costs, the expected cost with its interval (this section's table
    and the appendix's read it alike)."""
    cells = [fmt(policy.get("cutoff_score"), ".1f"), pct(policy.get("approval_rate")),
             pct(policy.get("default_rate_approved"))]
    if costed:
        low, high = (policy.get("expected_cost_interval") or [None, None])[:2]
        cells.append(interval(policy.get("expected_cost"), low, high))
    return cells


def _fairness_rows(ctx: ReportContext) -> list[list[Any]]:
    matched = get(ctx.fairness, "matched_rate", "models", default={}) or {}
    rows = []
    for m in ctx.order:
        at = matched.get(m)
        if not isinstance(at, dict):
            continue
        screened = screened_disparity(ctx, m)  # the row page one's screen reads
        screen = screen_of(screened, ctx.four_fifths) if screened else SCREEN_NOT_ASSESSED
        rows.append([m, pct(ctx.metric(m, "approval_rate")),
                     ratio_text(get(screened, "worst_approval_ratio"), ctx.four_fifths),
                     light(SCREEN_LIGHT.get(screen, "n/a"), SCREEN_WORDS.get(screen, "")),
                     pct(at.get("approval_rate")), fmt(at.get("worst_approval_ratio"), ".2f"),
                     fmt_p(at.get("p_value")), str(at.get("four_fifths_verdict", "-"))])
    return rows


def _cost_blocks(ctx: ReportContext, practice: dict[str, Any]) -> list[dict[str, Any]]:
    curves = {m: get(practice, "models", m, "cost_curve") for m in ctx.order}
    curves = {m: c for m, c in curves.items() if isinstance(c, dict) and c.get("cutoff")}
    if not curves:
        return []
    long = pd.concat([pd.DataFrame(c).assign(model=m) for m, c in curves.items()],
                     ignore_index=True)[["model", "cutoff", "approval_rate", "expected_cost"]]
    path = ctx.add_table("cost_curve", long)
    first = next(iter(curves.values()))
    ctx.add_figure("cost_curve", lambda: plots.line_svg(
        first["cutoff"], {m: c["expected_cost"] for m, c in curves.items()},
        "cut-off score", "expected cost per applicant", "Cost curve", styles=ctx.styles,
        labels=ctx.legend))
    rows = []
    for m, c in curves.items():
        best = int(pd.Series(c["expected_cost"]).idxmin())
        rows.append([m, fmt(c["cutoff"][best], ".0f"), pct(c["approval_rate"][best]),
                     fmt(c["expected_cost"][best])])
    return [figure("cost_curve", "Expected cost per applicant over cut-offs"),
            details("Cheapest cut-off of each curve (all citizens' outcomes; descriptive, "
                    "not how the cost policy chooses)", [table(
                        ["model", "cut-off", "approved", "expected cost"], rows,
                        csv=path)])]


def _stability_blocks(ctx: ReportContext, practice: dict[str, Any]) -> list[dict[str, Any]]:
    oot = practice.get("out_of_time_fold")
    rows, folds = [], None
    for m in ctx.order:
        per_fold = get(practice, "models", m, "score_stability", default=[]) or []
        folds = folds or [r["fold"] for r in per_fold]
        rows.append([m] + [_lit(r.get("psi"), r.get("light")) for r in per_fold])
    blocks: list[dict[str, Any]] = []
    if folds:
        heads = [f"fold {k}" + (" (out of time)" if k == oot else "") for k in folds]
        blocks.append(details("Score stability: PSI of the score between each fold's "
                              "training and test citizens", [table(["model", *heads], rows)]))
    inputs = pd.DataFrame(practice.get("input_stability") or [])
    if len(inputs):
        path = ctx.add_table("input_stability", inputs)
        shown = inputs.head(10)
        blocks.append(details(f"Input stability: the {len(shown)} least stable inputs "
                              "(PSI between training and test citizens, least stable fold)",
                              [table(["input", "PSI", "fold"],
                                     [[r.column, _lit(r.psi, r.light), str(r.fold)]
                                      for r in shown.itertuples()], csv=path)]))
    return blocks


def _summary(ctx: ReportContext, practice: dict[str, Any]) -> str:
    policy = practice["policy"]
    rate = practice.get("matched_approval_rate")
    parts = [f"Approvals in this run follow {POLICY_WORDS.get(policy, policy)}; the "
             "leaderboard's approval figures use it."]
    costs = practice.get("costs")
    if costs:
        cheapest = min(ctx.order, key=lambda m: float(ctx.metric(m, "expected_cost"))
                       if finite(ctx.metric(m, "expected_cost")) else float("inf"))
        high = ctx.metric(cheapest, "expected_cost_high")
        close = [m for m in ctx.order if m != cheapest and finite(high)
                 and finite(ctx.metric(m, "expected_cost_low"))
                 and float(ctx.metric(m, "expected_cost_low")) <= float(high)]
        parts.append(f"With a wrong approval costing {fmt(costs['false_accept'], 'g')} and "
                     f"a wrong rejection {fmt(costs['false_reject'], 'g')}, {cheapest} has "
                     f"the lowest expected cost per applicant "
                     f"({fmt(ctx.metric(cheapest, 'expected_cost'))})"
                     + (f", but the intervals of {len(close)} other model(s) reach below "
                        "its upper bound, so the difference is not established." if close
                        else "; no other model's interval reaches its upper bound."))
    matched = get(ctx.fairness, "matched_rate", "models", default={}) or {}
    fails = [m for m in ctx.order if get(matched, m, "four_fifths_verdict") == "fail"]
    if matched and finite(rate):
        parts.append(f"When every model approves {pct(rate)} of applicants, "
                     f"{len(fails)} of {len(matched)} model(s) fail the four-fifths rule"
                     + (f" ({', '.join(fails)})" if fails else "") + ".")
    red = [m for m in ctx.order if any(r.get("light") == "red" for r in get(
        practice, "models", m, "score_stability", default=[]) or [])]
    if practice.get("split") == "time":
        parts.append(f"Fold {practice.get('out_of_time_fold')} holds the latest "
                     "applications, scored by models trained on the earlier ones "
                     "(out-of-time validation).")
    parts.append(f"The score shifted (PSI >= 0.25) between training and test citizens for "
                 f"{', '.join(red)}." if red else "No model's score shifted (PSI >= 0.25) "
                 "between training and test citizens.")
    return " ".join(parts)


def practice(ctx: ReportContext) -> Section | None:
    practice_ = ctx.run.metrics.get("practice")
    if not isinstance(practice_, dict):
        return None
    costed = bool(practice_.get("costs"))
    cols = ["model", "policy", "cut-off", "approved", "bad among approved"]
    cols += ["expected cost [interval]"] if costed else []
    blocks: list[dict[str, Any]] = [details(
        "Decision policies: each model's cut-off, approvals and bad rate under each policy",
        [table(cols, _policy_rows(ctx, practice_, costed),
               align=["left", "left"] + ["right"] * (len(cols) - 2),
               caption="out of fold, first repeat; (decides): the run's policy; intervals "
                       "are bootstrap intervals")])]
    fair = _fairness_rows(ctx)
    if fair:
        blocks.append(table(
            ["model", "approved (run's policy)", "screened four-fifths ratio", "screen",
             "approved (matched)", "worst four-fifths (matched)", "test (matched)",
             "verdict (matched)"],
            fair, title="Fairness like with like: the run's policy beside a matched "
                        "approval rate",
            caption="observed outcome; matched: point estimates; test: two-proportion "
                    "test of the lowest against the highest group (nominal p)"))
    if costed:
        blocks += _cost_blocks(ctx, practice_)
    blocks += _stability_blocks(ctx, practice_)
    if not costed:
        blocks.append(text("No misclassification costs were given (decision.costs), so "
                           "expected costs and the cost policy are not computed."))
    return Section("practice", "Credit practice: decisions, costs and stability",
                   _summary(ctx, practice_), blocks)
