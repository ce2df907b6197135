"""Section 4, fairness: the four-fifths verdicts per model and attribute, and one
disparity chart per attribute (each group's approval ratio with its interval)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scorelab.report import plots
from scorelab.report.blocks import (
    Section,
    details,
    figure,
    figures,
    finite,
    fmt,
    fmt_p,
    get,
    light,
    records,
    table,
    text,
)
from scorelab.report.context import ReportContext
from scorelab.report.sections.verdict import SCREEN_LIGHT, ratio_text, screen_of
from scorelab.runs.contract import SCREEN_BELOW, SCREEN_SIGNIFICANT

__all__ = ["fairness", "joined"]


def joined(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _disparities(ctx: ReportContext) -> pd.DataFrame:
    rows = [{"model": m, **r} for m, entry in ctx.fair_models().items()
            for r in records(entry.get("disparities"))]
    return pd.DataFrame(rows)


def _verdicts(ctx: ReportContext, disp: pd.DataFrame) -> dict[str, Any]:
    obs = disp[disp["outcome"] == "observed"]
    attributes = list(dict.fromkeys(obs["attribute"].astype(str)))
    rows = []
    for m in ctx.order:
        mine = obs[obs["model"] == m].set_index("attribute")
        cells: list[Any] = [m]
        for a in attributes:
            if a not in mine.index:
                cells.append(light("n/a"))
                continue
            ratio = mine.at[a, "worst_approval_ratio"]
            screen = screen_of(mine.loc[a].to_dict(), ctx.four_fifths)
            cells.append(light(SCREEN_LIGHT.get(screen, "n/a"),
                               ratio_text(ratio, ctx.four_fifths) if finite(ratio)
                               else "too few groups"))
        eod = mine["equalized_odds_difference"].max() if len(mine) else np.nan
        rows.append(cells + [fmt(eod, ".3f")])
    return table(["model"] + attributes + ["worst equalized-odds difference"], rows,
                 title="Four-fifths screen: lowest over highest group approval rate",
                 align=["left"] * (len(attributes) + 1) + ["right"],
                 caption="observed outcomes; fail: below the screen, significant (Holm); "
                         "warn: below, not significant; equalized-odds difference: the "
                         "largest gap in error rates between groups (0 = equal)")


def _charts(ctx: ReportContext) -> list[dict[str, Any]]:
    """One dot plot per audited attribute: every group's approval rate over the
    reference group's, with its bootstrap interval, one dot per model."""
    groups = ctx.run.fairness_by_group
    if groups is None or not {"ratio", "ratio_ci_low", "ratio_ci_high"} <= set(groups):
        return []
    rates = groups[(groups["outcome"] == "observed") & (groups["metric"] == "approval_rate")]
    blocks = []
    for i, attribute in enumerate(ctx.attributes):
        part = rates[rates["attribute"].astype(str) == attribute]
        names = [str(g) for g in dict.fromkeys(part["group"].astype(str))]
        suppressed = sorted({str(g) for g in part.loc[part["suppressed"], "group"]})
        live = [g for g in names if g not in suppressed]
        if len(live) < 2:
            continue
        reference = str(part["reference_group"].iloc[0]) if "reference_group" in part else "-"
        series = {}
        for m in ctx.order:
            mine = part[part["model"] == m].assign(
                group=lambda d: d["group"].astype(str)).set_index("group")
            series[m] = [(float(mine.at[g, "ratio"]), float(mine.at[g, "ratio_ci_low"]),
                          float(mine.at[g, "ratio_ci_high"])) if g in mine.index and g !=
                         reference else (np.nan, np.nan, np.nan) for g in live]
        note = (f"withheld (too few applicants): {', '.join(suppressed)}" if suppressed
                else None)
        shown = [f"{g} (reference)" if g == reference else g for g in live]
        key = f"disparity_{i}"
        ctx.add_figure(key, lambda a=attribute, lv=shown, s=series, r=reference, n=note:
                       plots.disparity_svg(lv, s, f"Approval rate by {a}",
                                           f"approval rate / {r}'s (reference)",
                                           ctx.four_fifths, ctx.styles, n, ctx.legend))
        blocks.append(figure(key, f"Approval ratio by {attribute}, against {reference}"))
    return blocks


def _suppressed(ctx: ReportContext) -> str:
    seen: dict[str, set[str]] = {}
    for entry in ctx.fair_models().values():
        for s in records(entry.get("suppressed_groups")):
            if s.get("outcome") == "observed" and s.get("metric") == "all":
                seen.setdefault(str(s["attribute"]), set()).add(str(s["group"]))
    size = get(ctx.fairness, "thresholds", "min_group_size")
    if not seen:
        return f"Every group had at least {size} applicants, so none was withheld."
    listed = "; ".join(f"{a}: {', '.join(sorted(g))}" for a, g in seen.items())
    return (f"Groups with fewer than {size} applicants are withheld (their rates are not "
            f"reported, never shown as 0 or 1): {listed}.")


def fairness(ctx: ReportContext) -> Section | None:
    if ctx.fairness is None:
        return None
    disp = _disparities(ctx)
    attributes = ctx.attributes
    blocks: list[dict[str, Any]] = []
    n_fail = n_below = 0
    if len(disp):
        obs = disp[disp["outcome"] == "observed"]
        screens = [screen_of(r, ctx.four_fifths) for r in obs.to_dict("records")]
        n_fail, n_below = screens.count(SCREEN_SIGNIFICANT), screens.count(SCREEN_BELOW)
        blocks.append(_verdicts(ctx, disp))
        ctx.add_table("disparities", disp)
    charts = _charts(ctx)
    if charts:
        blocks.append(figures(*charts))
    blocks.append(text(_suppressed(ctx)))
    appendix = []
    if len(disp):
        shown = ["model", "outcome", "attribute", "lowest_group", "highest_group",
                 "approval_low", "approval_high", "worst_approval_ratio", "p_value_approval",
                 "equalized_odds_difference", "eod_groups"]
        shown = [c for c in shown if c in disp.columns]
        text_columns = {"model", "outcome", "attribute", "lowest_group", "highest_group",
                        "eod_groups"}
        headers = {"p_value_approval": "approval test (lowest vs highest)",
                   "eod_groups": "equalized-odds groups"}
        appendix.append(table(
            [headers.get(c, c.replace("_", " ")) for c in shown],
            [[fmt_p(r[c]) if c == "p_value_approval" else fmt(r[c]) for c in shown]
             for r in disp[shown].to_dict("records")],
            align=["left" if c in text_columns else "right" for c in shown],
            csv="tables/disparities.csv"))
    if ctx.run.fairness_by_group is not None:
        ctx.add_table("fairness_by_group", ctx.run.fairness_by_group)
        appendix.append(text("Every group's metrics with intervals, for every model and "
                             "outcome: tables/fairness_by_group.csv."))
    if appendix:
        blocks.append(details("Disparities of every model, outcome and attribute", appendix))
    summary = (f"Each model's approvals are compared across the audited groups "
               f"({joined(attributes) if attributes else 'none'}), with bootstrap "
               f"intervals. A model fails the four-fifths rule on an attribute when its "
               f"lowest group's approval rate is below {fmt(ctx.four_fifths, 'g')} of the "
               f"highest group's; on the observed outcomes {n_fail} model-attribute pair(s) "
               f"fall below it significantly (Holm across models and attributes) and "
               f"{n_below} without significance.")
    return Section("fairness", "Fairness across groups", summary, blocks)
