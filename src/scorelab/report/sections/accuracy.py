"""Section 2, accuracy: the leaderboard with its fairness column, the curves and the
society scale of the seed paper's table 1."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

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
    interval,
    pct,
    table,
)
from scorelab.report.context import ReportContext

__all__ = ["accuracy", "first_repeat"]


def first_repeat(ctx: ReportContext) -> pd.DataFrame:
    pred = ctx.run.predictions
    return pred[pred["repeat"] == pred["repeat"].min()]


def _vs_best(position: int, row: dict[str, Any]) -> str:
    if position == 0:
        return "best"
    p = row.get("p_vs_best_holm")
    if not finite(p):
        return "-"
    word = "worse" if bool(row.get("significant_vs_best")) else "tied"
    return f"{word}, {fmt_p(p)}"


def _leaderboard(ctx: ReportContext) -> dict[str, Any]:
    board = ctx.run.leaderboard
    truth = "auc_true" in board.columns
    fair = "worst_approval_ratio" in board.columns
    cols = ["#", "model", "family", "AUC [interval]", "KS", "Brier", "ECE", "approved",
            "bad among approved"]
    cols += ["AUC, true outcome"] if truth else []
    cols += ["worst four-fifths"] if fair else []
    cols += ["against the best"]
    rows = []
    for i, r in enumerate(board.to_dict("records")):
        row = [str(i + 1), r["model"], r["family"],
               interval(r["auc"], r.get("auc_low"), r.get("auc_high")), fmt(r.get("ks")),
               fmt(r.get("brier")), fmt(r.get("ece")), pct(r.get("approval_rate")),
               pct(r.get("default_rate_approved"))]
        row += [fmt(r.get("auc_true"))] if truth else []
        row += [fmt(r.get("worst_approval_ratio"), ".2f")] if fair else []
        rows.append(row + [_vs_best(i, r)])
    ctx.add_table("leaderboard", board)
    return table(cols, rows, title="Leaderboard", align=["right", "left", "left"] +
                 ["right"] * (len(cols) - 4) + ["left"],
                 caption="out of fold, first repeat; approvals under the "
                        f"{ctx.run.study.decision.rule.replace('_', ' ')} policy (others: "
                        "Credit practice); intervals are bootstrap intervals; "
                         "tied or worse by paired DeLong tests against the best model, "
                         "Holm-corrected",
                 csv="tables/leaderboard.csv")


def _curves(ctx: ReportContext) -> list[dict[str, Any]]:
    first = first_repeat(ctx)
    roc, calib, calib_rows = {}, {}, []
    for m in ctx.order:
        part = first[first["model"] == m]
        y = part["defaulted"].to_numpy(dtype=int)  # each prediction carries its outcome
        p = part["p_default"].to_numpy()
        if y.size == 0 or y.min() == y.max():
            continue
        fpr, tpr, _ = roc_curve(y, p)
        keep = np.unique(np.linspace(0, fpr.size - 1, min(fpr.size, 200)).astype(int))
        roc[m] = (fpr[keep], tpr[keep])
        bins = pd.qcut(p, 10, labels=False, duplicates="drop")
        grouped = pd.DataFrame({"p": p, "y": y, "b": bins}).groupby("b")
        mean_p, rate = grouped["p"].mean().to_numpy(), grouped["y"].mean().to_numpy()
        calib[m] = (mean_p, rate)
        calib_rows.append([m, pct(mean_p[0]), pct(rate[0]), pct(mean_p[-1]), pct(rate[-1])])
    blocks: list[dict[str, Any]] = []
    if roc:
        ctx.add_figure("roc", lambda: plots.roc_svg(roc, ctx.styles, ctx.legend))
        ctx.add_figure("calibration",
                       lambda: plots.calibration_svg(calib, ctx.styles, ctx.legend))
        blocks.append(figures(figure("roc", "ROC curves"),
                              figure("calibration", "Calibration curves")))
        blocks.append(details("Calibration at the extremes (lowest and highest tenth of "
                              "predicted risk)", [table(
                                  ["model", "lowest tenth: predicted", "observed",
                                   "highest tenth: predicted", "observed"], calib_rows)]))
    scores = {m: first.loc[first["model"] == m, "score"].to_numpy() for m in ctx.order}
    cutoff = get(ctx.run.metrics, "models", ctx.order[0], "decision", "cutoff_score")
    if ctx.run.study.decision.rule != "cutoff":
        cutoff = None
    ctx.add_figure("scores", lambda: plots.hist_grid_svg(
        scores, "score (points)", "Score distributions", cutoff=cutoff if finite(cutoff)
        else None, styles=ctx.styles))
    blocks.append(details("Score distribution of each model (one panel per model)",
                          [figure("scores", "Score distribution of each model")]))
    return blocks


def _society(ctx: ReportContext) -> list[dict[str, Any]]:
    """The seed paper's society scale, where the run shows it (``ctx.society_scale``);
    a group smaller than the audit's suppression rule is withheld, with its count."""
    if not ctx.society_scale:
        return []
    overall, by_group, threshold = [], [], "600"
    for m in ctx.order:
        rows = get(ctx.run.metrics, "models", m, "society_scale", default=[]) or []
        key = next((k for r in rows for k in r if str(k).startswith("share_above")), None)
        if key is None:
            continue
        threshold = key.removeprefix("share_above_")
        for r in rows:
            if r.get("attribute") == "all":
                overall.append([m, pct(r.get(key)), r.get("class", ""),
                                r.get("class_description", "")])
            else:
                withheld = ctx.withheld(r.get("n"))
                by_group.append({"model": m, "attribute": r.get("attribute"),
                                 "group": r.get("group"), "n": r.get("n"),
                                 "share": None if withheld else r.get(key),
                                 "class": None if withheld else r.get("class"),
                                 "withheld": withheld})
    if not overall:
        return []
    inner: list[dict[str, Any]] = [table(
        ["model", f"share scoring {threshold} or more", "class", "meaning"], overall,
        title="The whole population", align=["left", "right", "left", "left"])]
    if by_group:
        frame = pd.DataFrame(by_group)
        ctx.add_table("society_scale_by_group", frame)
        share = frame.set_index(["attribute", "group", "model"])["share"]
        sizes = frame.drop_duplicates(["attribute", "group"]).set_index(
            ["attribute", "group"])["n"]
        shown = [m for m in ctx.order if m in set(frame["model"])]
        rows = []
        for a, g in dict.fromkeys(zip(frame["attribute"], frame["group"], strict=True)):
            n = sizes.get((a, g))
            cells = ([f"withheld (n = {fmt(n, ',.0f')})"] * len(shown)
                     if ctx.withheld(n) else [pct(share.get((a, g, m))) for m in shown])
            rows.append([a, g, fmt(n, ",.0f"), *cells])
        caption = (f"groups of fewer than {ctx.min_group_size} are withheld, as in the "
                   "fairness tables" if ctx.min_group_size else None)
        inner.append(table(["attribute", "group", "n"] + shown, rows,
                           title=f"By group (share scoring {threshold} or more)",
                           align=["left", "left", "right"] + ["right"] * len(shown),
                           caption=caption, csv="tables/society_scale_by_group.csv"))
    return [details("The society scale (table 1 of the seed paper): share of citizens "
                    f"scoring {threshold} or more, overall and by group", inner)]


def _significance(ctx: ReportContext) -> str:
    comparison = ctx.run.metrics.get("comparison_to_best") or []
    tied = [r["model"] for r in comparison if r.get("p_holm") is not None
            and not r.get("significant")]
    worse = [r["model"] for r in comparison if r.get("significant")]
    if not comparison:
        return ""
    return (f"{len(tied)} model(s) are not significantly less accurate than the best"
            + (f" ({', '.join(map(str, tied))})" if tied else "")
            + f" and {len(worse)} are (paired DeLong test, Holm-corrected). ")


def accuracy(ctx: ReportContext) -> Section:
    best = ctx.order[0]
    summary = (f"The most accurate model is {best} ({ctx.metric(best, 'family')}), with an "
               f"out-of-fold AUC of {interval(ctx.metric(best, 'auc'), ctx.metric(best, 'auc_low'), ctx.metric(best, 'auc_high'))}"
               f" (1 ranks every defaulter below every good payer, 0.5 is chance). "
               + _significance(ctx)
               + "Differences inside overlapping intervals should not decide a choice of "
                 "model.")
    blocks = [_leaderboard(ctx), *_curves(ctx), *_society(ctx)]
    return Section("accuracy", "Accuracy", summary, blocks)
