"""Section 3, explanations: what each model relies on, which data sources, how far the
families agree, and the reasons that lowered three example applicants' scores."""

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
    get,
    pct,
    table,
    text,
    words,
)
from scorelab.report.context import ReportContext
from scorelab.report.sections.accuracy import first_repeat

__all__ = ["explanations"]

#: Models drawn in the importance chart (best AUC first) and features listed.
CHART_MODELS, TOP_FEATURES = 3, 10


def _importance(ctx: ReportContext) -> pd.DataFrame:
    """feature x model mean |SHAP| in score points (importance.json keeps the log-odds;
    the scale is linear in them), models in report order."""
    models = get(ctx.run.importance, "models", default={}) or {}
    frame = pd.DataFrame({m: pd.Series(models[m]["features"], dtype=float)
                          for m in ctx.order if m in models})
    return frame.fillna(0.0) * ctx.run.study.scale.factor


def _chart(ctx: ReportContext, imp: pd.DataFrame) -> dict[str, Any]:
    shown = list(imp.columns[:CHART_MODELS])
    top = imp[shown].max(axis=1).sort_values(ascending=False)
    features = [str(f) for f, v in top.items() if v > 0][:TOP_FEATURES]
    ctx.add_figure("importance", lambda: plots.bar_svg(
        features, {m: [float(imp.at[f, m]) for f in features] for m in shown},
        "mean |SHAP| (score points)",
        f"Top inputs of the {len(shown)} most accurate explained models",
        styles=ctx.styles))
    return figure("importance", "Global importance")


def _agreement(ctx: ReportContext) -> dict[str, Any] | None:
    matrix = get(ctx.run.importance, "agreement", "matrix", default={}) or {}
    names = [m for m in ctx.order if m in matrix]
    if len(names) < 2:
        return None
    values = [[get(matrix, a, b) if finite(get(matrix, a, b)) else np.nan for b in names]
              for a in names]
    ctx.add_figure("agreement", lambda: plots.heatmap_svg(
        values, names, names, "Agreement on what matters (Spearman rank correlation)"))
    return figure("agreement", "Agreement between models")


def _sources(ctx: ReportContext) -> dict[str, Any] | None:
    models = get(ctx.run.importance, "models", default={}) or {}
    shares = {m: models[m].get("source_share") or {} for m in ctx.order if m in models}
    sources = [s for s in dict.fromkeys(s for v in shares.values() for s in v)
               if any(finite(v.get(s)) and v.get(s) > 0 for v in shares.values())]
    if not sources:
        return None
    return details("Share of each data source in each model's importance",
                   [table(["model"] + [words(s) for s in sources],
                          [[m] + [pct(v.get(s), 0) for s in sources]
                           for m, v in shares.items()])])


def _reasons(ctx: ReportContext, model: str) -> dict[str, Any] | None:
    """The inputs that lowered the score of the lowest, median and highest scored
    applicants of the audit sample (positive SHAP raises the risk)."""
    expl = ctx.run.explanations
    part = expl[expl["model"].astype(str) == model]
    first = first_repeat(ctx)
    scores = (first[first["model"] == model].set_index("citizen_id")["score"]
              .reindex(part["citizen_id"].unique()).dropna().sort_values())
    if scores.empty:
        return None
    factor = ctx.run.study.scale.factor
    rows = []
    for label, cid in (("lowest", scores.index[0]), ("median", scores.index[len(scores) // 2]),
                       ("highest", scores.index[-1])):
        mine = part[part["citizen_id"] == cid]
        # a reason costs at least half a point: rounding never shows "-0 points"
        against = mine[mine["shap"] * factor >= 0.5].sort_values("shap",
                                                                  ascending=False).head(3)
        reasons = "; ".join(f"{r['feature']} = {r['value']} ({-r['shap'] * factor:+.0f} "
                            f"points)" for r in against.to_dict("records"))
        rows.append([f"{cid} ({label} score)", fmt(scores[cid], ".0f"),
                     reasons or "no input lowered this score"])
    return details(f"Reasons for three example applicants ({model}): the lowest, median "
                   "and highest score", [table(["applicant", "score",
                                               "inputs that lowered the score most"], rows,
                                              align=["left", "right", "left"])])


def sample_sizes(ctx: ReportContext) -> str:
    """How many applicants each model explained: one number when every model explained
    the same sample, else each size with its models (sampled explainers take fewer)."""
    sizes = ctx.run.explanations.groupby("model", observed=True)["citizen_id"].nunique()
    by_size: dict[int, list[str]] = {}
    for m in ctx.order:
        if m in sizes.index:
            by_size.setdefault(int(sizes[m]), []).append(m)
    if len(by_size) == 1:
        return f"Explained on an audit sample of {next(iter(by_size)):,} citizens, every model."
    return "Explained on an audit sample: " + "; ".join(
        f"{n:,} citizens for {', '.join(models)}" for n, models in
        sorted(by_size.items(), reverse=True)) + " (sampled explainers explain fewer)."


def explanations(ctx: ReportContext) -> Section | None:
    if ctx.run.importance is None or ctx.run.explanations is None:
        return None
    imp = _importance(ctx)
    ctx.add_table("importance", imp.rename_axis("feature").reset_index())
    blocks: list[dict[str, Any]] = []
    chart, agreement = _chart(ctx, imp), _agreement(ctx)
    blocks.append(figures(chart, agreement) if agreement else chart)
    sources = _sources(ctx)
    if sources:
        blocks.append(sources)
    reasons = _reasons(ctx, str(imp.columns[0]))
    if reasons:
        blocks.append(reasons)
    blocks.append(details("Mean |SHAP| of every input and model (score points)", [table(
        ["input"] + list(imp.columns),
        [[f] + [fmt(v, ".1f") for v in imp.loc[f]] for f in imp.index],
        csv="tables/importance.csv")]))
    top = str(imp.mean(axis=1).idxmax()) if len(imp) else "-"
    summary = (f"Explanations are SHAP values in points of the score "
               f"({ctx.run.study.scale.pdo:g} points double the odds), each computed "
               f"by the fold model that scored the applicant, so a score and its "
               f"explanation agree. Across the {imp.shape[1]} explained models the most "
               f"influential input on average is '{top}'. A citizen should see why their "
               f"credit was reduced (the seed paper's first suggestion): the example "
               f"reasons below are in points.")
    blocks.insert(0, text(sample_sizes(ctx)))
    return Section("explanations", "Explanations", summary, blocks)
