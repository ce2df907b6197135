"""The report's figures: every series told apart, one look per model across figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scorelab.report import plots
from tests.report.svg_checks import clashing_series, series_looks

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

NAMES = [f"model_{i}" for i in range(24)]


def test_styles_never_repeat_a_look_and_keep_each_name_s_look() -> None:
    styles = plots.Styles(NAMES)
    looks = [(s["color"], s["linestyle"], s["marker"]) for s in map(styles, NAMES)]
    assert len(set(looks)) == len(looks)
    dots = [(s["color"], s["marker"]) for s in map(styles, NAMES)]  # figures without lines
    assert len(set(dots)) == len(dots)
    assert styles("model_3") == styles("model_3")
    assert styles("new")["gid"] == "series-24"  # a name first seen later gets the next look


def _curves(n: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    x = np.linspace(0, 1, 30)
    return {NAMES[i]: (x, x ** (1 / (i + 1.5))) for i in range(n)}


@pytest.mark.parametrize("n", [2, 11, 13])
def test_line_figures_draw_every_series_differently(n: int) -> None:
    styles = plots.Styles(NAMES)
    curves = _curves(n)
    for svg in (plots.roc_svg(curves, styles), plots.calibration_svg(curves, styles),
                plots.line_svg(list(range(30)), {k: v[1] for k, v in curves.items()}, "x",
                               "y", "t", styles=styles, shade_below=0.8, hline=0.8)):
        looks = series_looks(svg)
        assert sorted(looks) == list(range(n))
        assert clashing_series(svg) == []


def test_dot_plots_and_multiples_tell_series_apart() -> None:
    styles = plots.Styles(NAMES)
    series = {NAMES[i]: [(0.9 - 0.01 * i, 0.8, 1.0), (1.0, 0.9, 1.1)] for i in range(12)}
    svg = plots.disparity_svg(["a", "b"], series, "t", "ratio", 0.8, styles, note="c: few")
    assert sorted(series_looks(svg)) == list(range(12)) and clashing_series(svg) == []
    panels = {f: (["18-25", "26-35"], {NAMES[i]: [0.1 * i, -0.1] for i in range(11)})
              for f in ("age", "income")}
    svg = plots.multiples_svg(panels, "shap", "t", styles)
    assert sorted(series_looks(svg)) == list(range(11)) and clashing_series(svg) == []
    points = [{"name": NAMES[i], "x": 0.7 + 0.01 * i, "y": 0.9 - 0.02 * i} for i in range(11)]
    svg = plots.pareto_svg(points, "auc", "ratio", "t", styles, shade_below=0.8)
    assert sorted(series_looks(svg)) == list(range(11)) and clashing_series(svg) == []


def test_the_check_sees_a_clash_when_two_series_look_alike() -> None:
    class Same(plots.Styles):
        def __call__(self, name: str) -> dict:
            look = super().__call__(name)
            return {**look, "color": plots.PALETTE[0], "linestyle": "-", "marker": "o"}

    svg = plots.roc_svg(_curves(3), Same(NAMES))
    assert clashing_series(svg) == [(0, 1), (0, 2)]


def test_figures_are_the_same_in_another_process() -> None:
    """A figure is a pure function of its data: the same bytes in a fresh interpreter with
    another hash seed (matplotlib's SVG ids and dates would otherwise differ)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from tests.report.test_plots import _curves; from scorelab.report import plots; "
            "sys.stdout.write(plots.roc_svg(_curves(4)))")
    root = Path(__file__).resolve().parents[2]
    other = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout == plots.roc_svg(_curves(4))
