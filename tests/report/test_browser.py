"""The HTML report in a real headless Chromium: offline, every section visible, nothing
wider than the page, no overlapping labels, and short enough to read.

This test never skips: without Chromium it fails and says how to install it
(``make test`` installs it first). Screenshots go to ``SCORELAB_SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.report.browser import INSTALL_HINT, find_chromium, open_page
from tests.report.svg_checks import clashing_series, series_looks, svgs

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

SECTIONS = ("summary", "study", "accuracy", "practice", "explanations", "reasons", "fairness",
            "age", "validity", "mitigation", "policy", "appendix")
MAX_SCREENS = 15  # of 1400 x 900
PROBE = """JSON.stringify((() => {
  const vw = document.documentElement.clientWidth;
  const sections = [...document.querySelectorAll('section.report-section')].map(s => {
    const r = s.getBoundingClientRect(), st = getComputedStyle(s);
    const h = s.querySelector('h2'), p = s.querySelector('p.summary');
    return {id: s.id, height: r.height, width: r.width, display: st.display,
            visibility: st.visibility, opacity: st.opacity,
            heading: h ? h.innerText : '', summary: p ? p.innerText.length : 0,
            svgs: s.querySelectorAll('svg').length};
  });
  // an SVG's own box counts; what it clips away inside does not
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5);
  }).slice(0, 8).map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 60));
  const overlaps = [];
  document.querySelectorAll('svg').forEach((svg) => {
    const boxes = [...svg.querySelectorAll('text')].map(t => [t.getBoundingClientRect(),
      t.textContent]).filter(([r]) => r.width > 0 && r.height > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, ta] = boxes[i], [b, tb] = boxes[j];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) overlaps.push(svg.getAttribute('aria-label') + ': ' + ta + ' / ' + tb);
    }
  });
  return {vw, height: document.documentElement.scrollHeight, sections, wide, overlaps};
})())"""


def _chromium() -> str:
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(INSTALL_HINT)
    return chromium


def _keep(shot: Path, name: str) -> None:
    keep = os.environ.get("SCORELAB_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / name).write_bytes(shot.read_bytes())


def test_default_study_report_in_headless_chromium(default_study_run: Path,
                                                   tmp_path: Path) -> None:
    page = default_study_run / "report.html"  # rendered by the run
    chromium = _chromium()
    shot = tmp_path / "report-1280.png"
    result = open_page(page, shot, PROBE, chromium=chromium, width=1280, height=900)
    assert result.requests == [page.resolve().as_uri()], (
        f"the page made network requests: {result.requests}")
    assert result.errors == [], f"the page logged errors: {result.errors}"
    probe = json.loads(result.probe)
    sections = {s["id"]: s for s in probe["sections"]}
    assert list(sections) == list(SECTIONS)
    for sid, s in sections.items():
        assert s["display"] != "none" and s["visibility"] == "visible", sid
        assert float(s["opacity"]) > 0 and s["height"] > 50 and s["width"] > 300, sid
        assert s["heading"] and s["summary"] > 40, sid
    assert probe["wide"] == [], f"wider than the 1280 px viewport: {probe['wide']}"
    assert probe["overlaps"] == [], f"overlapping labels: {probe['overlaps'][:5]}"
    assert sections["accuracy"]["svgs"] >= 3 and sections["fairness"]["svgs"] >= 1
    _keep(shot, "report-1280.png")
    tall = tmp_path / "report-1400.png"
    probe = json.loads(open_page(page, tall, PROBE, chromium=chromium, width=1400,
                                 height=900).probe)
    assert probe["height"] <= MAX_SCREENS * 900, (
        f"the report is {probe['height']} px tall: more than {MAX_SCREENS} screens")
    _keep(tall, "report-1400.png")
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:4] == b"\x89PNG"


def test_default_study_figures_tell_every_model_apart(default_study_run: Path) -> None:
    html = (default_study_run / "report.html").read_text()  # rendered by the run
    figures = svgs(html)
    assert len(figures) >= 8
    drawn = 0
    for svg in figures:
        assert clashing_series(svg) == [], svg[:200]
        drawn = max(drawn, len(series_looks(svg)))
    assert drawn >= 11  # the default study's eleven models, in one figure


def test_report_prints_to_pdf(run_copy: Path) -> None:
    from typer.testing import CliRunner

    from scorelab.cli.commands import app

    _chromium()
    result = CliRunner().invoke(app, ["report", str(run_copy), "--pdf"])
    assert result.exit_code == 0, result.output
    pdf = run_copy / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
    assert str(pdf) in result.stdout
    assert not [p for p in run_copy.iterdir() if p.name.endswith(".tmp")]


PRINTED = """JSON.stringify((() => {
  const inside = [...document.querySelectorAll('details > :not(summary)')];
  return {inside: inside.length, shown: inside.filter(e => e.checkVisibility()).length};
})())"""


def test_the_pdf_prints_every_collapsed_part_open(default_study_run: Path,
                                                   tmp_path: Path) -> None:
    page = default_study_run / "report.html"
    chromium = _chromium()
    on_screen = json.loads(open_page(page, tmp_path / "screen.png", PRINTED,
                                     chromium=chromium).probe)
    printed = json.loads(open_page(page, tmp_path / "print.png", PRINTED, chromium=chromium,
                                   media="print").probe)
    assert on_screen["inside"] > 20 and on_screen["shown"] == 0  # collapsed on screen
    assert printed["shown"] == printed["inside"] == on_screen["inside"]  # open in print
