"""Page one: the auditor's question answered on one screen.

The verdict attribute by attribute (which models fail the four-fifths screen, whether
significantly after Holm, on which groups with their sizes and intervals, and what
follows), the less discriminatory alternative the run holds (or that it holds none),
then per model (best AUC first): accuracy with its interval, the screened ratio and
the groups it compares, the young/rest approval ratio, policy flags and one status;
the basis of the screen, the main age finding and what the run did not do, and why.
Every word comes from the run's own artifacts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scorelab.report.blocks import (
    Section,
    bullets,
    finite,
    fmt,
    fmt_p,
    get,
    interval,
    light,
    link,
    pct,
    records,
    table,
    text,
)
from scorelab.report.context import ReportContext
from scorelab.report.sections.cards import card_anchor
from scorelab.report.sections.proxies import StandIns, stand_ins
from scorelab.report.sections.verdict import (
    SCREEN_LIGHT,
    alternative,
    alternative_sentence,
    attribute_lines,
    ratio_text,
    screen_of,
)
from scorelab.runs.contract import (
    SCREEN_BELOW,
    SCREEN_NOT_ASSESSED,
    SCREEN_PASS,
    SCREEN_SIGNIFICANT,
    SCREENS,
)

__all__ = ["age_finding", "model_status", "overview", "worst_disparity"]

#: A ratio this close above the four-fifths threshold is flagged as borderline.
BORDERLINE = 0.05


def worst_disparity(ctx: ReportContext, model: str) -> dict[str, Any] | None:
    """The observed-outcome disparity row with the lowest approval ratio of a model."""
    rows = [r for r in records(get(ctx.fair_models().get(model), "disparities"))
            if r.get("outcome") == "observed" and finite(r.get("worst_approval_ratio"))]
    return min(rows, key=lambda r: float(r["worst_approval_ratio"])) if rows else None


def direct_inputs(ctx: ReportContext, model: str) -> list[str]:
    """Protected or prohibited columns the model uses as inputs."""
    return [str(f["column"]) for f in ctx.policy_flags(model, direct=True)]


def indirect_flags(ctx: ReportContext, model: str) -> list[str]:
    """Inputs that carry a protected attribute's weight in the model's explanations."""
    return [str(f["column"]) for f in ctx.policy_flags(model, direct=False)]


def screened_disparity(ctx: ReportContext, model: str) -> dict[str, Any] | None:
    """The observed disparity row that decides a model's screen: the worst screen, then
    the lowest ratio."""
    rows = [r for r in records(get(ctx.fair_models().get(model), "disparities"))
            if r.get("outcome") == "observed" and finite(r.get("worst_approval_ratio"))]
    return min(rows, key=lambda r: (SCREENS.index(screen_of(r, ctx.four_fifths)),
                                    float(r["worst_approval_ratio"]))) if rows else None


def model_status(ctx: ReportContext, model: str, proxies: StandIns | None = None) -> str:
    """fail: a significant four-fifths failure or a protected input used directly;
    warn: a ratio below the screen without significance, a borderline ratio, an input
    that carries a protected attribute's weight, or stand-ins for age that cost the
    young or the 62+ points (``proxies``)."""
    if ctx.fairness is None:
        return "n/a"
    row = screened_disparity(ctx, model)
    screen = screen_of(row, ctx.four_fifths) if row else SCREEN_NOT_ASSESSED
    if screen == SCREEN_SIGNIFICANT or direct_inputs(ctx, model):
        return "fail"
    ratio = float(row["worst_approval_ratio"]) if row else np.nan
    if screen == SCREEN_BELOW or indirect_flags(ctx, model) or \
            (proxies is not None and proxies.worse) or \
            (np.isfinite(ratio) and ratio < ctx.four_fifths + BORDERLINE):
        return "warn"
    return "pass" if screen == SCREEN_PASS else "n/a"


def _ratio_cell(ctx: ReportContext, model: str) -> tuple[dict[str, str], str]:
    row = screened_disparity(ctx, model)
    if row is None:
        return light("n/a", "not assessed"), "-"
    screen = screen_of(row, ctx.four_fifths)
    p = row.get("p_holm_approval")
    detail = ratio_text(row["worst_approval_ratio"], ctx.four_fifths) + (
        f" ({fmt_p(p)})" if screen in (SCREEN_SIGNIFICANT, SCREEN_BELOW) and finite(p)
        else "")
    attribute = str(row["attribute"])
    groups = (f"{attribute}: {_sized(ctx, model, attribute, row.get('lowest_group'))} vs "
              f"{_sized(ctx, model, attribute, row.get('highest_group'))}")
    return light(SCREEN_LIGHT.get(screen, "n/a"), detail), groups


def _sized(ctx: ReportContext, model: str, attribute: str, group: Any) -> str:
    """A group with its size (n) from fairness_by_group."""
    table = ctx.run.fairness_by_group
    if table is None or group is None:
        return str(group)
    n = table.loc[(table["model"].astype(str) == model) & (table["outcome"] == "observed")
                  & (table["attribute"].astype(str) == attribute)
                  & (table["group"].astype(str) == str(group)), "n"]
    return f"{group} ({int(n.iloc[0]):,})" if len(n) else str(group)


def _flags_cell(ctx: ReportContext, model: str, proxies: StandIns | None) -> str:
    direct = list(dict.fromkeys(direct_inputs(ctx, model)))
    indirect = list(dict.fromkeys(indirect_flags(ctx, model)))
    worse = proxies.worse if proxies is not None else {}
    parts = ([f"uses {', '.join(direct)}"] if direct else []) + \
        ([f"weight on {', '.join(indirect)}"] if indirect else []) + \
        ([f"stand-ins cost {', '.join(worse)}"] if worse else [])
    return "; ".join(parts) or ("none" if ctx.fairness is not None else "-")


def age_finding(ctx: ReportContext) -> str | None:
    """The main age finding in one sentence (None when no age analysis ran)."""
    ages = {m: e["age"] for m, e in ctx.fair_models().items() if isinstance(e.get("age"), dict)}
    ratios = {m: a.get("approval_ratio") for m, a in ages.items()
              if finite(a.get("approval_ratio"))}
    if not ratios:
        return None
    best = next(m for m in ctx.order if m in ratios)
    a = ages[best]
    low = min(ratios, key=lambda m: ratios[m])
    high = max(ratios, key=lambda m: ratios[m])
    sentence = (f"Under {best}, the most accurate model with an age analysis, applicants "
                f"with {a.get('young_band')} are approved at {fmt(ratios[best], '.2f')} "
                f"times the rate of the rest ({pct(a.get('approval_young'))} against "
                f"{pct(a.get('approval_rest'))}; mean score {fmt(a.get('score_gap'), '+.0f')} "
                f"points)")
    if len(ratios) > 1:
        sentence += (f"; across the {len(ratios)} models the ratio runs from "
                     f"{fmt(ratios[low], '.2f')} ({low}) to {fmt(ratios[high], '.2f')} "
                     f"({high})")
    true_risk = get(a, "decomposition", "true_risk")
    if finite(true_risk):
        sentence += (f". The young's true risk alone would put them "
                     f"{fmt(true_risk, '+.0f')} points from the rest")
    return sentence + "."


def without_adverse_factor(ctx: ReportContext) -> str:
    """Page one's count of declines that come without an adverse factor (a decline an
    applicant cannot be told the reason for), per model; empty without reasons."""
    summary = ctx.run.adverse_action
    if summary is None:
        return ""
    models = summary.get("models") or {}
    counts = {m: (int(e.get("n_declined_without_adverse_factor") or 0),
                  int(e.get("n_declined") or 0))
              for m in ctx.order if isinstance(e := models.get(m), dict)
              and e.get("n_declined")}
    if not counts:
        return ""
    missing = {m: c for m, c in counts.items() if c[0]}
    if not missing:
        return (" Every declined citizen of the audit sample gets at least one adverse "
                "factor.")
    return (" Declined without an adverse factor: " + ", ".join(
        f"{m} {k:,} of {n:,}" for m, (k, n) in missing.items()) + ".")


def not_done(ctx: ReportContext) -> list[str]:
    """What this run did not do, each with its reason, from the run's own record."""
    run, cfg = ctx.run, ctx.run.config
    items = [f"model {name} did not run: {reason}"
             for name, reason in (run.metrics.get("skipped_models") or {}).items()]
    if run.explanations is None:
        items.append("no explanations: explain.enabled is false in the config"
                     if get(cfg, "explain", "enabled") is False else
                     "no explanations were saved with this run")
    if run.fairness is None:
        items.append("no fairness audit: fairness.enabled is false in the config"
                     if get(cfg, "fairness", "enabled") is False else
                     "no fairness audit was saved with this run")
    elif ctx.age_column is None:
        items.append("no age analysis: no audited attribute is declared the age attribute")
    if not ctx.truth:
        items.append("no check against a known truth: a real table holds only the "
                     "recorded outcomes, so every figure is measured against them")
    if not any(ctx.role(m) == "mitigation" for m in ctx.order):
        items.append("no mitigation variant was in the study (no model of family "
                     "'mitigation')")
    return items


def _accuracy_only(ctx: ReportContext) -> dict[str, Any]:
    """Page one's table when no fairness audit ran: nothing to judge but accuracy."""
    rows = [[link(m, card_anchor(m)), str(ctx.metric(m, "family")),
             interval(ctx.metric(m, "auc"), ctx.metric(m, "auc_low"), ctx.metric(m, "auc_high")),
             pct(ctx.metric(m, "approval_rate")), pct(ctx.metric(m, "default_rate_approved"))]
            for m in ctx.order]
    return table(["model", "family", "AUC [interval]", "approved", "bad among approved"],
                 rows, title="Every model at a glance (best AUC first)",
                 align=["left", "left", "right", "right", "right"])


def overview(ctx: ReportContext) -> Section:
    if ctx.fairness is None:
        best = ctx.order[0]
        blocks = [_accuracy_only(ctx), bullets(not_done(ctx), title="Not in this run")]
        summary = (f"{len(ctx.order)} models compared on {ctx.population_words}. The most "
                   f"accurate is {best} (AUC {fmt(ctx.metric(best, 'auc'))}). No fairness "
                   f"audit was run, so no model's fairness is assessed.")
        return Section("summary", "Summary for the auditor", summary, blocks)
    rows, statuses = [], {}
    proxies = stand_ins(ctx)
    has_age = any(finite(ctx.metric(m, "age_approval_ratio")) for m in ctx.order)
    for m in ctx.order:
        ratio, groups = _ratio_cell(ctx, m)
        statuses[m] = model_status(ctx, m, proxies.get(m))
        row = [link(m, card_anchor(m)), interval(ctx.metric(m, "auc"), ctx.metric(m, "auc_low"),
                           ctx.metric(m, "auc_high")), ratio, groups]
        if has_age:
            row.append(fmt(ctx.metric(m, "age_approval_ratio"), ".2f"))
        row += [_flags_cell(ctx, m, proxies.get(m)), light(statuses[m])]
        rows.append(row)
    columns = ["model", "AUC [interval]", "worst four-fifths ratio",
               "groups compared (lowest vs highest approval; n)"]
    columns += ["young / rest approval"] if has_age else []
    columns += ["policy flags", "status"]
    alt = alternative(ctx)
    lines = attribute_lines(ctx, alt)
    blocks: list[dict[str, Any]] = []
    if lines:
        blocks.append(bullets(lines, title="The verdict, attribute by attribute"))
    blocks.append(text(alternative_sentence(ctx, alt)))
    blocks.append(table(
        columns, rows, title="Every model at a glance (best AUC first)",
        align=["left", "right", "left", "left"] + (["right"] if has_age else [])
        + ["left", "left"],
        caption=f"lowest group's approval over the highest's; below "
                f"{fmt(ctx.four_fifths, 'g')}: fail if significant (Holm), else warn"))
    finding = age_finding(ctx)
    if finding:
        blocks.append(text(finding))
    skipped = not_done(ctx)
    if skipped:
        blocks.append(bullets(skipped, title="Not in this run"))
    n_fail = sum(s == "fail" for s in statuses.values())
    n_warn = sum(s == "warn" for s in statuses.values())
    best = ctx.order[0]
    summary = (f"{len(ctx.order)} models compared on {ctx.population_words}. The most "
               f"accurate is {best} (AUC {fmt(ctx.metric(best, 'auc'))}). {n_fail} "
               f"model(s) fail (significantly below the four-fifths screen, or a protected "
               f"input used directly), {n_warn} are below it without significance, "
               f"borderline or flagged, {sum(s == 'pass' for s in statuses.values())} pass."
               + without_adverse_factor(ctx))
    return Section("summary", "Summary for the auditor", summary, blocks)
