"""The benchmark's report (``report.html`` and ``report.md``): read from its files only.

Page one answers "which family, at what fairness cost, how sure" in sentences built from
the numbers; then each metric's ranks with its critical-difference diagram, the win /
tie / loss and Bayesian tables against the control, Kendall's tau between the accuracy
and fairness rankings, the accuracy-fairness Pareto chart of average ranks, and a link
to every cell's own report. The look is the study report's (its CSS).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from matplotlib import rc_context
from matplotlib.figure import Figure

from scorelab.report.plots import RC, Styles, figure_to_svg

__all__ = ["cd_diagram_svg", "headline", "pareto_ranks_svg", "render"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}f}"
    return str(value)


def _p(value: float) -> str:
    """A p-value after "p": "< 0.001" or "= 0.049"."""
    return "< 0.001" if value < 0.001 else f"= {value:.3f}"


def cd_diagram_svg(ranking: dict[str, Any], alpha: float) -> str | None:
    """The critical-difference diagram (scikit-posthocs): models on their average rank,
    bars joining those the pairwise tests cannot tell apart."""
    import scikit_posthocs as sp

    ranks = pd.Series(ranking["average_ranks"])
    if ranking["p_values"] is None or len(ranks) < 2:
        return None
    p_values = pd.DataFrame(ranking["p_values"]).loc[ranks.index, ranks.index]
    with rc_context(RC):
        fig = Figure(figsize=(6.4, 0.5 + 0.32 * len(ranks)), layout="constrained")
        ax = fig.add_subplot()
        sp.critical_difference_diagram(ranks, p_values, alpha=alpha, ax=ax,
                                       label_fmt_left="{label} ({rank:.2f})",
                                       label_fmt_right="({rank:.2f}) {label}")
        title = f"{ranking['label']}: average ranks (1 = best)"
        ax.set_title(title, fontsize=9)
        return figure_to_svg(fig, title)


def pareto_ranks_svg(accuracy: dict[str, Any], fairness: dict[str, Any],
                     front: list[str]) -> str:
    """Average accuracy rank against average fairness rank (lower is better on both),
    the Pareto front's models ringed."""
    models = [m for m in accuracy["average_ranks"] if m in fairness["average_ranks"]]
    styles = Styles(models)
    title = f"{accuracy['label']} rank against {fairness['label']} rank"
    with rc_context(RC):
        fig = Figure(figsize=(6.4, 3.8), layout="constrained")
        ax = fig.add_subplot()
        for model in models:
            look = styles(model)
            x, y = accuracy["average_ranks"][model], fairness["average_ranks"][model]
            ax.scatter([x], [y], s=60 if model in front else 36, color=look["color"],
                       marker=look["marker"], label=model + (" (front)" if model in front
                                                             else ""),
                       edgecolors="#222222", linewidths=1.4 if model in front else 0.4,
                       zorder=3)
        ax.invert_xaxis()
        ax.invert_yaxis()
        ax.set(xlabel=f"average {accuracy['label']} rank (better to the right)",
               ylabel=f"average {fairness['label']} rank (better up)", title=title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        return figure_to_svg(fig, title)


def headline(stats: dict[str, Any]) -> list[str]:
    """Page one in words: which family, at what fairness cost, how sure."""
    rankings = stats["rankings"]
    lines: list[str] = []
    n_sets = len(stats["datasets"])
    if not rankings:
        return [("No metric could be ranked: fewer than two datasets have results for "
                 "every model (see the cells below).")]
    first = next(iter(rankings.values()))
    ranks = first["average_ranks"]
    best = min(ranks, key=ranks.get)
    fr = first["friedman"]
    sure = (f"the families differ (Friedman p {_p(fr['p_chi2'])}, Iman-Davenport "
            f"F = {fr['f_f']:.2f}, p {_p(fr['p_f_f'])})" if fr["p_f_f"] < stats["alpha"]
            else f"but Friedman's test does not find the families different "
                 f"(p {_p(fr['p_chi2'])}, Iman-Davenport p {_p(fr['p_f_f'])})")
    lines.append(f"Which family: {best} has the best average {first['label']} rank "
                 f"({ranks[best]:.2f} of {len(ranks)}) over {len(first['datasets'])} "
                 f"datasets and {len(stats['seeds'])} seed(s); {sure}.")
    control = stats["control"]
    rows = {r["model"]: r for r in stats["against_control"]}
    if best != control and best in rows:
        r = rows[best]
        lines.append(
            f"How sure: against the control {control}, {best} wins {r['wins']}, ties "
            f"{r['ties']} and loses {r['losses']} datasets (DeLong per seed; sign test "
            f"p {_p(r['p_sign'])}); the Bayesian signed-rank test gives P(better) = "
            f"{r['p_better']:.2f}, P(equivalent within {stats['rope']:g}) = "
            f"{r['p_equivalent']:.2f}, P(worse) = {r['p_worse']:.2f}.")
    elif best == control:
        lines.append(f"How sure: the control {control} itself ranks first; see the "
                     "tables against it below.")
    fair = [r for r in rankings.values() if r["fairness"]]
    for ranking in fair[:2]:
        fr_ranks = ranking["average_ranks"]
        if best not in fr_ranks:
            continue
        top = min(fr_ranks.values())
        fairest = [m for m, r in fr_ranks.items() if np.isclose(r, top)]
        tau = stats["kendall"].get(ranking["metric"])
        tau_text = (f"; Kendall's tau between the {first['label']} and this ranking is "
                    f"{tau['tau']:.2f}" if tau else "")
        if len(fairest) == len(fr_ranks):
            where = "(every family ties there)"
        elif fairest == [best]:
            where = "and ranks best there too"
        elif best in fairest:
            others = ", ".join(m for m in fairest if m != best)
            where = f"and shares the best rank with {others}"
        else:
            where = f"and {', '.join(fairest)} rank{'s' if len(fairest) == 1 else ''} best " \
                    f"({top:.2f})"
        lines.append(f"At what fairness cost: on the {ranking['label']}, {best} ranks "
                     f"{fr_ranks[best]:.2f} of {len(fr_ranks)} {where}{tau_text}.")
    if n_sets < stats["few_datasets"]:
        lines.append(f"Caution: {n_sets} dataset(s) are few; with fewer than about "
                     f"{stats['few_datasets']} the tests across datasets are weak "
                     "(Demsar 2006), so read the ranks as a description, not a verdict.")
    failed = [c for c in stats["cells"] if c["status"] == "failed"]
    if failed:
        lines.append(f"{len(failed)} cell(s) failed and are left out of every table (see "
                     "the cells below).")
    return lines


def _sections(stats: dict[str, Any]) -> list[dict[str, Any]]:
    sections = []
    for ranking in stats["rankings"].values():
        models = sorted(ranking["average_ranks"], key=ranking["average_ranks"].get)
        fr = ranking["friedman"]
        text = (f"{len(ranking['datasets'])} datasets, {len(models)} models: Friedman "
                f"chi-square = {fr['chi2']:.2f} (p {_p(fr['p_chi2'])}), Iman-Davenport "
                f"F = {fr['f_f']:.2f} (p {_p(fr['p_f_f'])}); Nemenyi critical difference "
                f"{ranking['critical_difference']:.2f} (q = {ranking['q_alpha']:.3f}); "
                f"pairwise tests: {'Wilcoxon with Holm' if ranking['posthoc'] == 'wilcoxon_holm' else 'Nemenyi'}.")
        if ranking["left_out"]:
            text += (" Left out (a model has no value there): "
                     + ", ".join(ranking["left_out"]) + ".")
        rows = [[m, _fmt(ranking["average_ranks"][m], 2)] for m in models]
        sections.append({"title": f"{ranking['label']} ranked across datasets",
                         "text": [text], "figure": ranking.get("svg"),
                         "tables": [{"columns": ["model", "average rank"], "rows": rows}]})
    if stats["against_control"]:
        rows = [[r["model"], str(r["wins"]), str(r["ties"]), str(r["losses"]),
                 _fmt(r["p_sign"]), _fmt(r["mean_difference"], 4), _fmt(r["p_worse"], 2),
                 _fmt(r["p_equivalent"], 2), _fmt(r["p_better"], 2)]
                for r in stats["against_control"]]
        sections.append({
            "title": f"Against the control ({stats['control']})",
            "text": [(f"Win / tie / loss per dataset by DeLong's paired test of each "
                      f"seed's out-of-fold predictions (a dataset is a win when more than "
                      f"half its seeds are significant at {stats['alpha']:g}), the sign "
                      f"test over datasets, and the Bayesian signed-rank test on "
                      f"{stats['accuracy']} with a region of practical equivalence of "
                      f"{stats['rope']:g}.")],
            "figure": None,
            "tables": [{"columns": ["model", "wins", "ties", "losses", "sign test p",
                                    "mean difference", "P(worse)", "P(equivalent)",
                                    "P(better)"], "rows": rows}]})
    if stats["win_tie_loss"]:
        rows = [[r["dataset"], r["model"], r["outcome"], f"{r['wins']}/{r['seeds']}",
                 f"{r['losses']}/{r['seeds']}", _fmt(r["auc_diff"], 4)]
                for r in stats["win_tie_loss"]]
        sections.append({"title": "Win / tie / loss per dataset", "text": [],
                         "figure": None, "tables": [{"columns": [
                             "dataset", "model", "outcome", "significant wins",
                             "significant losses", "mean AUC difference"], "rows": rows}]})
    if stats["kendall"] or stats.get("pareto_svg"):
        rows = [[stats["rankings"][m]["label"], _fmt(t["tau"], 2), _fmt(t["p_value"]),
                 str(t["n_models"])] for m, t in stats["kendall"].items()]
        sections.append({
            "title": "Accuracy and fairness",
            "text": [f"Kendall's tau between the average {stats['accuracy']} ranks and "
                     "each fairness metric's (1: the same order; -1: the most accurate are "
                     "the least fair). Pareto front (no family better on both ranks): "
                     + (", ".join(stats["pareto_front"]) or "-") + "."],
            "figure": stats.get("pareto_svg"),
            "tables": [{"columns": ["fairness metric", "tau", "p", "models"],
                        "rows": rows}] if rows else []})
    rows = [[c["dataset"], str(c["seed"]), c["status"], _fmt(c.get("fit_seconds"), 1),
             c.get("split_hash") or "-", c.get("error") or "",
             c.get("report") or ""] for c in stats["cells"]]
    sections.append({"title": "Cells", "text": [
        ("Every cell is an ordinary run directory: its own report, explain and compare "
         "work on it.")], "figure": None, "tables": [], "cells": rows})
    return sections


def render(stats: dict[str, Any], title: str) -> tuple[str, str]:
    """(HTML, Markdown) of the benchmark report."""
    env = Environment(loader=PackageLoader("scorelab.benchmark", "templates"),
                      autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    css = (files("scorelab.report") / "templates" / "report.css").read_text()
    context = {"title": title, "headline": headline(stats), "sections": _sections(stats),
               "stats": stats}
    from markupsafe import Markup

    html_sections = [{**s, "figure": Markup(s["figure"]) if s.get("figure") else None}
                     for s in context["sections"]]
    html = env.get_template("benchmark.html.j2").render(**{**context,
                                                           "sections": html_sections},
                                                        css=css)
    md = env.get_template("benchmark.md.j2").render(**context)
    return html, md
