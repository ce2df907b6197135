"""Policy checks: which models use protected or prohibited inputs directly, how much of
their importance such inputs carry, and which inputs stand in for age and whether they
cost the young or the 62+ points (the model cards are in the examiner's appendix)."""

from __future__ import annotations

from typing import Any

from scorelab.report.blocks import Section, finite, fmt, get, light, pct, table
from scorelab.report.context import ReportContext
from scorelab.report.sections.overview import direct_inputs
from scorelab.report.sections.proxies import (
    WORSE_BY,
    StandIns,
    edge_bands,
    proxy_threshold,
    stand_ins,
)

__all__ = ["policy"]


def _flags(ctx: ReportContext) -> dict[str, dict[str, list[str]]]:
    """Per model, its direct inputs and (with their share) the weight-carrying ones."""
    def weight(f: dict[str, Any]) -> str:
        share = f.get("share")
        return str(f.get("column")) + (f" ({pct(share, 0)} of its importance)"
                                       if share is not None else "")

    return {m: {"direct": list(dict.fromkeys(direct_inputs(ctx, m))),
                "weight": list(dict.fromkeys(weight(f) for f in ctx.policy_flags(m, direct=False)
                                             if f.get("check") == "shap_weight"))}
            for m in ctx.order}


def stand_in_cell(found: StandIns | None, common: list[str]) -> dict[str, str]:
    """A model's stand-ins for age as a light: warn when they cost the young or the 62+
    band at least WORSE_BY points against the rest (its inputs named only when they are
    not the ``common`` ones the column's header names)."""
    if found is None or not found.inputs:
        return light("pass", "none among its inputs")
    own = "" if found.inputs == common else f"{', '.join(found.inputs)}: "
    worse = found.worse
    if worse:
        return light("warn", own + ", ".join(f"{band} {gap:+.0f} points vs the rest"
                                             for band, gap in worse.items()))
    if found.gap:
        return light("pass", own + ", ".join(f"{band} {gap:+.0f}"
                                             for band, gap in found.gap.items()))
    held = ", ".join(f"{b} (n = {n})" for b, n in found.withheld.items())
    return light("n/a", own + (f"withheld: {held}" if held else "not explained"))


def _stand_in_summary(proxies: dict[str, StandIns], young: str, old: str) -> str:
    """How many models' stand-ins cost the edge bands points, of those measured."""
    using = [p for p in proxies.values() if p.inputs]
    assessed = [p for p in using if p.assessed]
    if not using:
        return "; no model uses an input that stands in for age."
    said = (f"; of the {len(using)} models with stand-ins for age, "
            f"{sum(bool(p.worse) for p in assessed)} give {young} or {old} fewer points "
            "than the rest")
    if len(assessed) < len(using):
        said += (f" ({len(using) - len(assessed)} not assessed: too few explained "
                 "applicants in those bands, or no explanations)")
    return said + "."


def policy(ctx: ReportContext) -> Section | None:
    """None without a fairness audit (page one's "Not in this run" says so)."""
    if ctx.fairness is None:
        return None
    flags = _flags(ctx)
    proxies = stand_ins(ctx)
    used = [p.inputs for p in proxies.values() if p.inputs]
    common = max(used, key=used.count) if used else []
    rows = []
    for m in ctx.order:
        direct, weight = flags[m]["direct"], flags[m]["weight"]
        row = [m, light("fail" if direct else "pass", ", ".join(direct) or "none"),
               light("warn" if weight else "pass", ", ".join(weight) or "none")]
        rows.append(row + ([stand_in_cell(proxies.get(m), common)] if proxies else []))
    threshold = get(ctx.fairness, "thresholds", "shap_threshold")
    head = ["model", "protected or prohibited inputs used", "their share of importance"
            + (f" (above {pct(threshold, 0)})" if finite(threshold) else "")]
    young, old = edge_bands(ctx) or ("the youngest band", "the oldest band")
    if proxies:
        head.append(f"stand-ins for age ({', '.join(common) or 'none'}): {young} and {old} "
                    "against the rest, points")
    caption = (f"stand-in: proxy strength at least {fmt(proxy_threshold(ctx), '.2f')} in "
               f"the age section's audit; warn: {WORSE_BY:g} point or more fewer (mean SHAP, "
               "audit sample)") if proxies else None
    blocks = [table(head, rows, title="Protected and prohibited inputs, and stand-ins",
                    align=["left"] * len(head), caption=caption)]
    n_direct = sum(bool(f["direct"]) for f in flags.values())
    summary = (f"The seed paper asks that some facts never count against a citizen "
               f"(protected attributes, and what the config lists as prohibited). "
               f"{n_direct} of {len(ctx.order)} models use such an input directly"
               + (_stand_in_summary(proxies, young, old) if proxies else "."))
    return Section("policy", "Policy checks", summary, blocks)
