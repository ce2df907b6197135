"""Section 6, mitigation: what fairness costs in accuracy, on the same folds. Present
only when the study has a mitigation variant or an ablation."""

from __future__ import annotations

from typing import Any

from scorelab.report import plots
from scorelab.report.blocks import Section, details, figure, finite, fmt, table
from scorelab.report.context import ReportContext
from scorelab.report.sections.overview import worst_disparity

__all__ = ["mitigation"]


def mitigation(ctx: ReportContext) -> Section | None:
    variants = [m for m in ctx.order if ctx.role(m) != "original"]
    if not variants or ctx.fairness is None:
        return None
    points, rows = [], []
    for m in ctx.order:
        worst = worst_disparity(ctx, m)
        ratio = float(worst["worst_approval_ratio"]) if worst else None
        auc = ctx.metric(m, "auc")
        rows.append([m, ctx.role(m), fmt(auc), fmt(ratio, ".2f"),
                     f"{worst['attribute']}" if worst else "-"])
        if finite(auc) and finite(ratio):
            points.append({"name": m, "x": float(auc), "y": float(ratio)})
    blocks: list[dict[str, Any]] = []
    if len(points) >= 2:
        ctx.add_figure("pareto", lambda: plots.pareto_svg(
            points, "AUC (accuracy)", "worst four-fifths ratio (fairness)",
            "Accuracy against fairness", styles=ctx.styles, labels=ctx.legend,
            shade_below=ctx.four_fifths))
        blocks.append(figure("pareto", "Accuracy against fairness"))
    blocks.append(details("Originals, ablations and mitigation variants: AUC and worst "
                          "four-fifths ratio", [table(
                              ["model", "role", "AUC", "worst four-fifths ratio",
                               "on attribute"], rows,
                              align=["left", "left", "right", "right", "left"])]))
    front = plots.pareto_front([(p["x"], p["y"]) for p in points])
    on_front = [p["name"] for p in points if (p["x"], p["y"]) in front]
    summary = (f"{len(variants)} variant(s) ({', '.join(variants)}) were trained on the same "
               f"folds as the original models, so the accuracy lost and the fairness gained "
               f"can be read off one chart. Not beaten on both at once (the Pareto front): "
               f"{', '.join(on_front) or 'none'}.")
    return Section("mitigation", "Mitigation: accuracy against fairness", summary, blocks)
