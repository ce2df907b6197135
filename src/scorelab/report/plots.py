"""Figures of the report as inline SVG: self-contained, searchable, sharp in print.

Every function returns an ``<svg>`` element as a string, ready to be placed in the
HTML as is (no file, no external reference, no script). Text stays text
(``svg.fonttype = none``), so names are selectable and matplotlib XML-escapes them.

Every model keeps one look across all figures (:class:`Styles`): the i-th model gets
a colour, a dash and a marker, and no two models share all three, so the figures read
in black-and-white print and with eleven or more models. Each drawn series carries the
SVG id ``series-<i>`` so the look can be checked in the file itself. Output is
deterministic (fixed hash salt, no date), so two renders of a run give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

__all__ = ["Styles", "bar_svg", "calibration_svg", "disparity_svg", "figure_to_svg",
           "heatmap_svg", "hist_grid_svg", "line_svg", "multiples_svg", "pareto_front",
           "pareto_svg", "roc_svg"]

#: Okabe-Ito colours (colour-blind safe; no yellow, which vanishes on white) and three
#: of Paul Tol's muted colours, so ten series differ by colour alone.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#882255", "#44AA99", "#999933")
DASHES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">")
GUIDE = "#555555"  # reference lines (chance, four-fifths, cut-off)
FAIL_BAND = "#f6d5d1"  # the region that fails the four-fifths rule
RC = {"svg.fonttype": "none", "svg.hashsalt": "scorelab", "font.size": 9,
      "font.family": "sans-serif", "axes.spines.top": False, "axes.spines.right": False,
      "axes.grid": True, "grid.color": "#dddddd", "grid.linewidth": 0.6,
      "axes.edgecolor": "#333333", "legend.frameon": False, "legend.fontsize": 8}
_STRIP = (re.compile(r"<metadata>.*?</metadata>", re.S),
          re.compile(r'\s+xmlns(:\w+)?="[^"]*"'))


class Styles:
    """One look per series name, fixed by the order names are first seen.

    The i-th name gets colour ``i % 10``, dash ``i % 4`` and marker ``i % 11``: two
    names share a colour and a marker only when their positions differ by a multiple
    of 110, so every series is told apart even in figures without lines (dot plots).
    """

    def __init__(self, names: Sequence[str] = ()) -> None:
        self._index: dict[str, int] = {}
        for name in names:
            self.index(name)

    def index(self, name: str) -> int:
        return self._index.setdefault(str(name), len(self._index))

    def __call__(self, name: str) -> dict[str, Any]:
        i = self.index(name)
        return {"color": PALETTE[i % len(PALETTE)], "linestyle": DASHES[i % len(DASHES)],
                "marker": MARKERS[i % len(MARKERS)], "gid": f"series-{i}"}


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
    """Inside the axes for a few entries, outside on the right for many."""
    if n:
        outside = n > 5
        ax.legend(loc="upper left" if outside else "best",
                  bbox_to_anchor=(1.01, 1.0) if outside else None)


def _styles(styles: Styles | None, names: Sequence[str]) -> Styles:
    return styles if styles is not None else Styles(names)


def _label(labels: Mapping[str, str] | None, name: str) -> str:
    return str((labels or {}).get(name, name))


def roc_svg(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
            styles: Styles | None = None, labels: Mapping[str, str] | None = None) -> str:
    """ROC curves, one per model: ``{name: (false positive rate, true positive rate)}``."""
    styles = _styles(styles, list(curves))
    with rc_context(RC):
        fig = _figure(6.4, 4.0)
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color=GUIDE, linewidth=0.8, linestyle=":", label="chance")
        for name, (fpr, tpr) in curves.items():
            ax.plot(fpr, tpr, label=_label(labels, name), linewidth=1.2, markevery=0.12,
                    markersize=3.5, **styles(name))
        ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1),
               ylim=(0, 1), title="ROC (out-of-fold, first repeat)")
        ax.set_aspect("equal")
        _legend(ax, len(curves) + 1)
        return figure_to_svg(fig, "ROC curves of every model")


def calibration_svg(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                    styles: Styles | None = None,
                    labels: Mapping[str, str] | None = None) -> str:
    """Reliability diagram: ``{name: (mean predicted P(default), observed default rate)}``."""
    styles = _styles(styles, list(curves))
    with rc_context(RC):
        fig = _figure(6.4, 4.0)
        ax = fig.add_subplot()
        high = max([1e-3] + [float(np.nanmax(np.r_[x, y])) for x, y in curves.values()
                             if len(x)])
        high = min(1.0, high * 1.05)
        ax.plot([0, high], [0, high], color=GUIDE, linewidth=0.8, linestyle=":",
                label="perfect calibration")
        for name, (pred, obs) in curves.items():
            ax.plot(pred, obs, label=_label(labels, name), linewidth=1.2, markersize=3.5,
                    **styles(name))
        ax.set(xlabel="mean predicted P(default)", ylabel="observed default rate",
               xlim=(0, high), ylim=(0, high), title="Calibration (deciles of P(default))")
        ax.set_aspect("equal")
        _legend(ax, len(curves) + 1)
        return figure_to_svg(fig, "calibration curves of every model")


def _grid(n: int, columns: int = 4) -> tuple[int, int]:
    cols = max(1, min(columns, n))
    return int(math.ceil(n / cols)), cols


def hist_grid_svg(values: Mapping[str, Sequence[float]], xlabel: str, title: str,
                  cutoff: float | None = None, styles: Styles | None = None,
                  bins: int = 30) -> str:
    """One small histogram per model on shared axes (overlaid histograms of many
    models cannot be told apart), with the cut-off as a guide line."""
    styles = _styles(styles, list(values))
    arrays = {name: np.asarray(v, dtype=float) for name, v in values.items() if len(v)}
    rows, cols = _grid(len(arrays))
    with rc_context(RC):
        fig = _figure(6.4, 0.3 + 1.35 * rows)
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True,
                                          squeeze=False)).ravel()
        if arrays:
            low = min(float(v.min()) for v in arrays.values())
            high = max(float(v.max()) for v in arrays.values())
            edges = np.linspace(low, high if high > low else low + 1, bins + 1)
        for ax, (name, v) in zip(axes, arrays.items(), strict=False):
            look = styles(name)
            ax.hist(v, bins=edges, weights=np.full(v.size, 1.0 / v.size),
                    color=look["color"], alpha=0.8)  # one model per panel: its title says which
            if cutoff is not None:
                ax.axvline(cutoff, color=GUIDE, linewidth=0.9, linestyle="--")
            ax.set_title(name, fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in axes[len(arrays):]:
            ax.set_visible(False)
        fig.supxlabel(xlabel + (f" (dashed: cut-off {cutoff:g})" if cutoff is not None
                                else ""), fontsize=8)
        fig.supylabel("share of citizens", fontsize=8)
        return figure_to_svg(fig, title)


def line_svg(x: Sequence[Any], series: Mapping[str, Sequence[float]], xlabel: str,
             ylabel: str, title: str, bands: Mapping[str, tuple[Sequence[float],
                                                                Sequence[float]]] | None = None,
             hline: float | None = None, styles: Styles | None = None,
             labels: Mapping[str, str] | None = None, shade_below: float | None = None
             ) -> str:
    """Lines over a shared x (numbers or labels), optional interval bands, a guide line
    and a shaded region below a threshold (e.g. the four-fifths rule's failing side)."""
    styles = _styles(styles, list(series))
    with rc_context(RC):
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in x)
        xs = np.asarray(x, dtype=float) if numeric else np.arange(len(x))
        for name, y in series.items():
            look = styles(name)
            ax.plot(xs, np.asarray(y, dtype=float), label=_label(labels, name),
                    linewidth=1.2, markersize=3.5, markevery=max(1, len(xs) // 10), **look)
            if bands and name in bands:
                low, high = bands[name]
                ax.fill_between(xs, np.asarray(low, dtype=float), np.asarray(high, dtype=float),
                                color=look["color"], alpha=0.12, linewidth=0)
        if shade_below is not None:
            ax.axhspan(min(ax.get_ylim()[0], shade_below - 0.05), shade_below,
                       color=FAIL_BAND, zorder=0, linewidth=0)
        if hline is not None:
            ax.axhline(hline, color=GUIDE, linewidth=0.9, linestyle="--")
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in x], rotation=30 if len(x) > 6 else 0,
                          ha="right" if len(x) > 6 else "center")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        _legend(ax, len(series))
        return figure_to_svg(fig, title)


def bar_svg(labels: Sequence[str], series: Mapping[str, Sequence[float]], xlabel: str,
            title: str, styles: Styles | None = None) -> str:
    """Horizontal grouped bars (e.g. mean |SHAP| per feature and model)."""
    styles = _styles(styles, list(series))
    hatches = ("", "//", "..", "xx", "\\\\", "++")
    with rc_context(RC):
        n, k = len(labels), max(1, len(series))
        fig = _figure(6.4, max(2.2, 0.2 * n * min(k, 3) + 1.0))
        ax = fig.add_subplot()
        height = 0.8 / k
        pos = np.arange(n)
        for i, (name, values) in enumerate(series.items()):
            look = styles(name)
            ax.barh(pos + (i - (k - 1) / 2) * height, np.asarray(values, dtype=float),
                    height=height, color=look["color"], label=name,
                    hatch=hatches[styles.index(name) % len(hatches)], edgecolor="#333333",
                    linewidth=0.4)
        ax.set_yticks(pos, [str(v) for v in labels])
        ax.invert_yaxis()
        ax.set(xlabel=xlabel, title=title)
        ax.grid(axis="y", visible=False)
        _legend(ax, len(series) if len(series) > 1 else 0)
        return figure_to_svg(fig, title)


def pareto_svg(points: Sequence[Mapping[str, Any]], xlabel: str, ylabel: str,
               title: str, styles: Styles | None = None,
               labels: Mapping[str, str] | None = None, shade_below: float | None = None
               ) -> str:
    """Accuracy against fairness: ``points`` of {name, x, y}. Each model is its own
    marker in the legend (no text beside the points, so nothing overlaps); the Pareto
    front (higher x, higher y is better) is a dashed step line."""
    styles = _styles(styles, [str(p["name"]) for p in points])
    with rc_context(RC):
        fig = _figure(6.4, 3.8)
        ax = fig.add_subplot()
        for p in points:
            look = styles(str(p["name"]))
            ax.scatter([p["x"]], [p["y"]], s=40, color=look["color"], marker=look["marker"],
                       label=_label(labels, str(p["name"])), zorder=3, gid=look["gid"],
                       edgecolors="#222222", linewidths=0.4)
        front = pareto_front([(p["x"], p["y"]) for p in points])
        if len(front) > 1:
            fx, fy = zip(*sorted(front), strict=True)
            ax.plot(fx, fy, color=GUIDE, linewidth=0.9, linestyle="--",
                    drawstyle="steps-post", label="Pareto front", zorder=2)
        if shade_below is not None:
            ax.axhspan(min(ax.get_ylim()[0], shade_below - 0.05), shade_below,
                       color=FAIL_BAND, zorder=0, linewidth=0)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        _legend(ax, len(points) + (len(front) > 1))
        return figure_to_svg(fig, title)


def pareto_front(xy: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points no other point beats on both axes (higher is better on both)."""
    pts = [(float(x), float(y)) for x, y in xy if np.isfinite(x) and np.isfinite(y)]
    return [p for p in pts
            if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in pts)]


def disparity_svg(groups: Sequence[str], series: Mapping[str, Sequence[tuple[float, float,
                                                                              float]]],
                  title: str, xlabel: str, threshold: float,
                  styles: Styles | None = None, note: str | None = None,
                  labels: Mapping[str, str] | None = None) -> str:
    """Each group's ratio with its interval, one row per group and one dot per model.

    ``series`` maps a model to one (ratio, low, high) per group (NaN where the group is
    suppressed or is the reference). The side failing ``threshold`` is shaded and 1
    (parity with the reference) is a guide line.
    """
    styles = _styles(styles, list(series))
    k = max(1, len(series))
    with rc_context(RC):
        fig = _figure(6.4, 0.9 + len(groups) * max(0.32, 0.075 * k))
        ax = fig.add_subplot()
        offsets = np.linspace(-0.35, 0.35, k) if k > 1 else np.zeros(1)
        highest = 1.1
        for j, (name, values) in enumerate(series.items()):
            look = styles(name)
            arr = np.asarray(values, dtype=float).reshape(-1, 3)
            ys = np.arange(len(groups)) + offsets[j]
            ok = np.isfinite(arr[:, 0])
            err = np.vstack([arr[:, 0] - arr[:, 1], arr[:, 2] - arr[:, 0]])
            err = np.where(np.isfinite(err), np.maximum(err, 0), 0)
            ax.errorbar(arr[ok, 0], ys[ok], xerr=err[:, ok], fmt="none",
                        ecolor=look["color"], elinewidth=0.8, capsize=0)
            ax.plot(arr[ok, 0], ys[ok], linestyle="none", marker=look["marker"],
                    color=look["color"], markersize=3.5, label=_label(labels, name),
                    gid=look["gid"])
            if ok.any():
                highest = max(highest, float(np.nanmax(np.r_[arr[ok, 0], arr[ok, 2]])))
        ax.axvspan(0, threshold, color=FAIL_BAND, zorder=0, linewidth=0)
        ax.axvline(1.0, color=GUIDE, linewidth=0.8, linestyle=":")
        ax.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
        ax.set_ylim(len(groups) - 0.5, -0.5)
        ax.set_xlim(0, min(max(1.25, highest * 1.05), 3.0))
        ax.set(xlabel=xlabel + (f"\n{note}" if note else ""), title=title)
        ax.grid(axis="y", visible=False)
        _legend(ax, len(series) if len(series) > 1 else 0)
        return figure_to_svg(fig, title)


def heatmap_svg(matrix: Sequence[Sequence[float]], rows: Sequence[str],
                columns: Sequence[str], title: str, vmin: float = -1.0,
                vmax: float = 1.0, digits: int = 2) -> str:
    """An annotated matrix (e.g. rank correlations between models), values rounded."""
    values = np.asarray(matrix, dtype=float)
    with rc_context(RC):
        size = 1.6 + 0.42 * max(len(rows), len(columns))
        fig = _figure(min(6.4, size + 0.6), min(6.0, size))
        ax = fig.add_subplot()
        # vector cells, values written in them: no raster image, no colour bar needed
        ax.pcolormesh(np.arange(len(columns) + 1) - 0.5, np.arange(len(rows) + 1) - 0.5,
                      np.ma.masked_invalid(values), cmap="RdBu", vmin=vmin, vmax=vmax)
        ax.set_xlim(-0.5, len(columns) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_xticks(np.arange(len(columns)), [str(c) for c in columns], rotation=90,
                      fontsize=7)  # upright labels: rotated boxes of neighbours overlap
        ax.set_yticks(np.arange(len(rows)), [str(r) for r in rows], fontsize=7)
        ax.grid(False)
        span = (vmax - vmin) or 1.0
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                dark = abs((v - vmin) / span - 0.5) > 0.3
                ax.text(j, i, f"{v:.{digits}f}", ha="center", va="center", fontsize=6,
                        color="#ffffff" if dark else "#1a1a1a")
        ax.set_title(title)
        return figure_to_svg(fig, title)


def multiples_svg(panels: Mapping[str, tuple[Sequence[str], Mapping[str, Sequence[float]]]],
                  ylabel: str, title: str, styles: Styles | None = None,
                  hline: float | None = 0.0, labels: Mapping[str, str] | None = None) -> str:
    """Small multiples: one panel per key (e.g. per feature), each with lines over a
    shared categorical x (e.g. age bands), one line per model, one legend for all."""
    names = list(dict.fromkeys(n for _, series in panels.values() for n in series))
    styles = _styles(styles, names)
    rows, cols = _grid(len(panels), 3)
    with rc_context(RC):
        fig = _figure(6.4, 0.6 + 1.7 * rows + 0.14 * math.ceil(len(names) / 3))
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, sharey=True)).ravel()
        for j, (ax, (key, (x, series))) in enumerate(zip(axes, panels.items(),
                                                          strict=False)):
            xs = np.arange(len(x))
            for name, y in series.items():
                look = styles(name)
                ax.plot(xs, np.asarray(y, dtype=float), linewidth=1.1, markersize=3,
                        label=_label(labels, name),
                        **{**look, "gid": f"{look['gid']}-panel-{j}"})
            if hline is not None:
                ax.axhline(hline, color=GUIDE, linewidth=0.7, linestyle=":")
            ax.set_xticks(xs, [str(v) for v in x], fontsize=6)
            ax.tick_params(axis="y", labelsize=7)
            ax.set_title(str(key), fontsize=8)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        fig.supylabel(ylabel, fontsize=8)
        handles = {}
        for ax in axes[:len(panels)]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, handle)
        if len(names) > 1:
            fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                       fontsize=7, ncols=3)
        fig.suptitle(title, fontsize=9)
        return figure_to_svg(fig, title)
