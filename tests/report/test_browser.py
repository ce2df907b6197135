"""The HTML report in a real headless Chromium: offline, every section visible, no errors.

This test never skips: without Chromium it fails and says how to install it
(``make test`` installs it first).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scorelab.report import build_report
from tests.report.browser import INSTALL_HINT, find_chromium, open_page

SECTIONS = ("study", "accuracy", "explanations", "fairness", "age", "mitigation", "policy")
PROBE = """JSON.stringify([...document.querySelectorAll('section.report-section')].map(s => {
  const r = s.getBoundingClientRect(), st = getComputedStyle(s);
  const h = s.querySelector('h2'), p = s.querySelector('p.summary');
  return {id: s.id, height: r.height, width: r.width, display: st.display,
          visibility: st.visibility, opacity: st.opacity,
          heading: h ? h.innerText : '', summary: p ? p.innerText.length : 0,
          svgs: s.querySelectorAll('svg').length};
}))"""


def test_report_opens_offline_in_headless_chromium(run_copy: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(INSTALL_HINT)
    paths = build_report(run_copy)
    shot = tmp_path / "report.png"
    result = open_page(paths.html, shot, PROBE, chromium=chromium)
    assert result.requests == [paths.html.resolve().as_uri()], (
        f"the page made network requests: {result.requests}")
    assert result.errors == [], f"the page logged errors: {result.errors}"
    sections = {s["id"]: s for s in json.loads(result.probe)}
    assert list(sections) == list(SECTIONS)
    for sid, s in sections.items():
        assert s["display"] != "none" and s["visibility"] == "visible", sid
        assert float(s["opacity"]) > 0 and s["height"] > 50 and s["width"] > 300, sid
        assert s["heading"] and s["summary"] > 40, sid
    assert sections["accuracy"]["svgs"] >= 3
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:4] == b"\x89PNG"
    keep = Path(__import__("os").environ.get("SCORELAB_SCREENSHOT_DIR", tmp_path))
    if keep != tmp_path:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "report.png").write_bytes(shot.read_bytes())
