"""A report on a real table names that table's own attributes and nothing of the
synthetic population (German credit: age, sex, foreign_worker)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

SYNTHETIC_ONLY = ("synthetic", "oracle", "twin", "planted", "minority", "region",
                  "true risk", "true default rate", "thin file")


def _visible_text(html: str) -> str:
    html = re.sub(r"<svg\b.*?</svg>", " ", html, flags=re.S)  # figures checked apart
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_german_report_names_only_german_attributes(german_study_run: Path) -> None:
    md, html = (german_study_run / "report.md").read_text(), \
        (german_study_run / "report.html").read_text()
    for text in (md, _visible_text(html)):
        lowered = text.lower()
        for word in SYNTHETIC_ONLY:
            assert word not in lowered, word
        assert "(age_band, sex, foreign_worker and age_band x sex)" in text
        assert "1,000 rows of the table 'german_credit.csv'" in text
        assert "Age ('age') gets its own audit" in text
    for attribute in ("age_band", "sex", "foreign_worker"):
        assert f"Approval rate by {attribute}" in html  # one disparity chart each
