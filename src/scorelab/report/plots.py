"""Figures of the report as inline SVG: self-contained, searchable, sharp in print.

Every function returns an ``<svg>`` element as a string, ready to be placed in the
HTML as is (no file, no external reference, no script). Text stays text
(``svg.fonttype = none``), so names are selectable and matplotlib XML-escapes them;
series differ by line style and marker as well as colour, so the figures read in
black-and-white print. Output is deterministic (fixed hash salt, no date), so two
renders of the same run give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

__all__ = ["bar_svg", "calibration_svg", "figure_to_svg", "hist_svg", "line_svg",
           "pareto_svg", "roc_svg"]

#: Okabe-Ito colours (colour-blind safe) with line styles and markers for print.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
RC = {"svg.fonttype": "none", "svg.hashsalt": "scorelab", "font.size": 9,
      "font.family": "sans-serif", "axes.spines.top": False, "axes.spines.right": False,
      "axes.grid": True, "grid.color": "#dddddd", "grid.linewidth": 0.6,
      "axes.edgecolor": "#333333", "legend.frameon": False, "legend.fontsize": 8}
_STRIP = (re.compile(r"<metadata>.*?</metadata>", re.S),
          re.compile(r'\s+xmlns(:\w+)?="[^"]*"'))


def _style(i: int) -> dict[str, Any]:
    return {"color": COLOURS[i % len(COLOURS)], "linestyle": STYLES[i % len(STYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def figure_to_svg(fig: Figure, label: str) -> str:
    """The figure as an inline ``<svg>`` element with an accessible label.

    The XML prolog, DOCTYPE, metadata and namespace declarations are removed: inside
    HTML they are not needed, and they are the only URLs matplotlib writes.
    """
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None,
                                             "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    for pattern in _STRIP:
        text = pattern.sub("", text)
    text = _prefix_ids(text)
    safe_label = (label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
                  .replace(">", "&gt;"))
    return text.replace("<svg", f'<svg role="img" aria-label="{safe_label}" '
                        f'class="figure"', 1)


def _prefix_ids(svg: str) -> str:
    """Make every id unique within the page: figures share one HTML document, and
    matplotlib names ids ``figure_1``, ``patch_1``... in every figure."""
    prefix = "f" + hashlib.sha1(svg.encode()).hexdigest()[:8] + "-"
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)([^)"]+)',
                  lambda m: m.group(1) + (prefix + m.group(2) if m.group(2) in ids
                                          else m.group(2)), svg)


def _figure(width: float = 6.4, height: float = 3.6) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _legend(ax: Any, n: int) -> None:
    if n:
        ax.legend(loc="best" if n <= 6 else "upper left",
                  bbox_to_anchor=None if n <= 6 else (1.0, 1.0))


def roc_svg(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> str:
    """ROC curves, one per model: ``{name: (false positive rate, true positive rate)}``."""
    with rc_context(RC):
        fig = _figure(5.2, 4.2)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="#888888", linewidth=0.8, linestyle=":",
                label="chance")
        for i, (name, (fpr, tpr)) in enumerate(curves.items()):
            style = _style(i)
            ax.plot(fpr, tpr, label=name, linewidth=1.3, markevery=0.1, markersize=3.5,
                    **style)
        ax.set(xlabel="false positive rate", ylabel="true positive rate",
               xlim=(0, 1), ylim=(0, 1), title="ROC (out-of-fold, first repeat)")
        _legend(ax, len(curves) + 1)
        return figure_to_svg(fig, "ROC curves of every model")


def calibration_svg(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> str:
    """Reliability diagram: ``{name: (mean predicted P(default), observed default rate)}``."""
    with rc_context(RC):
        fig = _figure(5.2, 4.2)
        ax = fig.add_subplot()
        high = max([1e-3] + [float(np.nanmax(np.r_[x, y])) for x, y in curves.values()
                             if len(x)])
        high = min(1.0, high * 1.05)
        ax.plot([0, high], [0, high], color="#888888", linewidth=0.8, linestyle=":",
                label="perfect calibration")
        for i, (name, (pred, obs)) in enumerate(curves.items()):
            ax.plot(pred, obs, label=name, linewidth=1.2, markersize=3.5, **_style(i))
        ax.set(xlabel="mean predicted P(default)", ylabel="observed default rate",
               xlim=(0, high), ylim=(0, high), title="Calibration (deciles of P(default))")
        _legend(ax, len(curves) + 1)
        return figure_to_svg(fig, "calibration curves of every model")


def hist_svg(values: Mapping[str, Sequence[float]], xlabel: str, title: str,
             cutoff: float | None = None, bins: int = 40) -> str:
    """Overlaid step histograms (share of citizens per bin), with an optional cut-off."""
    with rc_context(RC):
        fig = _figure()
        ax = fig.add_subplot()
        finite = [np.asarray(v, dtype=float) for v in values.values() if len(v)]
        if finite:
            low = min(float(v.min()) for v in finite)
            high = max(float(v.max()) for v in finite)
            edges = np.linspace(low, high if high > low else low + 1, bins + 1)
            for i, (name, v) in enumerate(values.items()):
                v = np.asarray(v, dtype=float)
                if not v.size:
                    continue
                weights = np.full(v.size, 1.0 / v.size)
                style = _style(i)
                ax.hist(v, bins=edges, weights=weights, histtype="step", linewidth=1.2,
                        color=style["color"], linestyle=style["linestyle"], label=name)
        if cutoff is not None:
            ax.axvline(cutoff, color="#000000", linewidth=1.0, linestyle="--")
            ax.annotate(f"cut-off {cutoff:g}", (cutoff, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -10), textcoords="offset points", fontsize=8)
        ax.set(xlabel=xlabel, ylabel="share of citizens", title=title)
        _legend(ax, len(values))
        return figure_to_svg(fig, title)


def line_svg(x: Sequence[Any], series: Mapping[str, Sequence[float]], xlabel: str,
             ylabel: str, title: str, bands: Mapping[str, tuple[Sequence[float],
                                                                Sequence[float]]] | None = None,
             hline: float | None = None) -> str:
    """Lines over a shared x (numbers or labels), optional interval bands and a guide line."""
    with rc_context(RC):
        fig = _figure()
        ax = fig.add_subplot()
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in x)
        xs = np.asarray(x, dtype=float) if numeric else np.arange(len(x))
        for i, (name, y) in enumerate(series.items()):
            style = _style(i)
            ax.plot(xs, np.asarray(y, dtype=float), label=name, linewidth=1.3, markersize=3.5,
                    markevery=max(1, len(xs) // 12), **style)
            if bands and name in bands:
                low, high = bands[name]
                ax.fill_between(xs, np.asarray(low, dtype=float), np.asarray(high, dtype=float),
                                color=style["color"], alpha=0.15, linewidth=0)
        if hline is not None:
            ax.axhline(hline, color="#000000", linewidth=0.9, linestyle="--")
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in x], rotation=30 if len(x) > 6 else 0,
                          ha="right" if len(x) > 6 else "center")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        _legend(ax, len(series))
        return figure_to_svg(fig, title)


def bar_svg(labels: Sequence[str], series: Mapping[str, Sequence[float]], xlabel: str,
            title: str) -> str:
    """Horizontal grouped bars (e.g. mean |SHAP| per feature and family)."""
    with rc_context(RC):
        n, k = len(labels), max(1, len(series))
        fig = _figure(6.4, max(2.2, 0.22 * n * min(k, 3) + 1.0))
        ax = fig.add_subplot()
        height = 0.8 / k
        pos = np.arange(n)
        hatches = ("", "//", "..", "xx", "\\\\", "++")
        for i, (name, values) in enumerate(series.items()):
            ax.barh(pos + (i - (k - 1) / 2) * height, np.asarray(values, dtype=float),
                    height=height, color=COLOURS[i % len(COLOURS)], label=name,
                    hatch=hatches[i % len(hatches)], edgecolor="#333333", linewidth=0.4)
        ax.set_yticks(pos, [str(v) for v in labels])
        ax.invert_yaxis()
        ax.set(xlabel=xlabel, title=title)
        ax.grid(axis="y", visible=False)
        _legend(ax, len(series) if len(series) > 1 else 0)
        return figure_to_svg(fig, title)


def pareto_svg(points: Sequence[Mapping[str, Any]], xlabel: str, ylabel: str,
               title: str) -> str:
    """Accuracy against fairness: ``points`` of {name, x, y, group}; the Pareto front
    (higher x, higher y is better) is drawn as a step line, every point is labelled."""
    with rc_context(RC):
        fig = _figure(6.4, 4.4)
        ax = fig.add_subplot()
        groups = list(dict.fromkeys(str(p.get("group", "model")) for p in points))
        for i, group in enumerate(groups):
            chosen = [p for p in points if str(p.get("group", "model")) == group]
            style = _style(i)
            ax.scatter([p["x"] for p in chosen], [p["y"] for p in chosen], s=28,
                       color=style["color"], marker=style["marker"], label=group, zorder=3)
            for p in chosen:
                ax.annotate(str(p["name"]), (p["x"], p["y"]), xytext=(4, 3),
                            textcoords="offset points", fontsize=7)
        front = pareto_front([(p["x"], p["y"]) for p in points])
        if len(front) > 1:
            fx, fy = zip(*sorted(front), strict=True)
            ax.plot(fx, fy, color="#000000", linewidth=0.9, linestyle="--",
                    drawstyle="steps-post", label="Pareto front", zorder=2)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        _legend(ax, len(groups) + (len(front) > 1))
        return figure_to_svg(fig, title)


def pareto_front(xy: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points no other point beats on both axes (higher is better on both)."""
    pts = [(float(x), float(y)) for x, y in xy if np.isfinite(x) and np.isfinite(y)]
    return [p for p in pts
            if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in pts)]
