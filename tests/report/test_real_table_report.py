"""A report on a real table names that table's own attributes and nothing of the
synthetic population (German credit: age, sex, foreign_worker)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from scorelab.config import load_config
from scorelab.report import build_report
from scorelab.study.runner import run
from tests.conftest import ROOT

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

FAST_MODELS = ("suining", "scorecard", "lightgbm")
SYNTHETIC_ONLY = ("synthetic", "oracle", "twin", "planted", "minority", "region",
                  "true risk", "true default rate", "thin file")


@pytest.fixture(scope="module")
def german_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = load_config(ROOT / "configs" / "german_credit.yaml", {
        "evaluation.folds": 3, "evaluation.bootstrap": 20, "fairness.bootstrap": 20,
        "explain.sample_size": 100, "explain.agnostic_sample_size": 20,
        "explain.background_size": 20, "output.save_models": "none"})
    # the expert rules, the scorecard and boosting: every kind of text the report writes
    # about a model, at a fraction of the full study's time
    kept = [m.model_dump() for m in config.models if m.name in FAST_MODELS]
    config = config.with_(models=kept)
    result = run(config, runs_dir=tmp_path_factory.mktemp("german"))
    assert result.run_dir is not None
    return result.run_dir


def _visible_text(html: str) -> str:
    html = re.sub(r"<svg\b.*?</svg>", " ", html, flags=re.S)  # figures checked apart
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_german_report_names_only_german_attributes(german_run: Path) -> None:
    paths = build_report(german_run)
    for text in (paths.md.read_text(), _visible_text(paths.html.read_text())):
        lowered = text.lower()
        for word in SYNTHETIC_ONLY:
            assert word not in lowered, word
        assert "(age_band, sex, foreign_worker and age_band x sex)" in text
        assert "1,000 rows of the table 'german_credit.csv'" in text
        assert "Age ('age') gets its own audit" in text
    html = paths.html.read_text()
    for attribute in ("age_band", "sex", "foreign_worker"):
        assert f"Approval rate by {attribute}" in html  # one disparity chart each
