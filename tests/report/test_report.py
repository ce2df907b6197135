"""The report: golden Markdown, escaping, missing artifacts, atomic re-runs, comparison."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from scorelab.exceptions import DataError
from scorelab.report import (
    REPORT_FILES,
    build_report,
    compare_html,
    compare_markdown,
    compare_runs,
)
from scorelab.runs.contract import REQUIRED_ARTIFACTS
from scorelab.study.runner import run
from tests.report.conftest import TINY_MODELS, tiny_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

GOLDEN = Path(__file__).parent / "golden" / "tiny_report.md"
XSS = "<script>alert(1)</script>"


def _normalise(text: str, run_dir: Path) -> str:
    """Replace what legitimately changes between runs (ids, hashes, versions, paths)."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for key in ("run_id", "config_hash", "data_fingerprint"):
        text = text.replace(str(manifest[key]), f"<{key}>")
    return text.replace(str(run_dir), "<run_dir>")


def test_report_markdown_matches_golden(run_copy: Path) -> None:
    paths = build_report(run_copy)
    text = _normalise(paths.md.read_text(), run_copy)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert GOLDEN.is_file(), "no golden file yet: run with UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(), (
        "report.md differs from tests/report/golden/tiny_report.md; if the change is "
        "intended, rerun with UPDATE_GOLDEN=1 and review the diff")


def test_report_files_are_complete_and_self_contained(run_copy: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in run_copy.iterdir()}
    paths = build_report(run_copy)
    html = paths.html.read_text()
    # the tiny run has no explanations and no fairness audit: those sections (and the
    # policy checks, which read the audit) are left out, and page one says why in one
    # line each
    for section in ("summary", "study", "accuracy", "practice", "appendix"):
        assert f'<section id="{section}"' in html
    for section in ("explanations", "fairness", "age", "mitigation", "policy"):
        assert f'<section id="{section}"' not in html
    assert "no explanations: explain.enabled is false in the config" in html
    assert "no fairness audit: fairness.enabled is false in the config" in html
    assert "http://" not in html and "https://" not in html and "//" not in re.sub(
        r"(file|data):", "", "".join(re.findall(r'(?:src|href)="([^"]*)"', html)))
    assert "<script" not in html.lower()
    assert html.count("<svg") >= 3  # ROC, calibration, score distributions
    data = json.loads(paths.json.read_text())
    assert [s["id"] for s in data["sections"]] == ["summary", "study", "accuracy", "practice",
                                                   "appendix"]
    assert [s["number"] for s in data["sections"]] == [0, 1, 2, 3, 4]
    assert data["sections"][-1]["blocks"][-1]["summary"].startswith("Glossary: the ")
    assert data["artifacts"]["explanations"] is False
    tables = {p.name for p in (run_copy / "tables").iterdir()}
    assert {"leaderboard.csv", "society_scale_by_group.csv"} <= tables
    # re-running replaces only the report's files and leaves no temporary file behind
    build_report(run_copy)
    after = {p.name: p.stat().st_mtime_ns for p in run_copy.iterdir()}
    assert set(after) == set(before) | set(REPORT_FILES) | {"tables"}
    assert all(after[name] == mtime for name, mtime in before.items()
               if name not in (*REPORT_FILES, "tables"))
    assert not [p for p in run_copy.rglob("*") if p.name.endswith(".tmp")]


def test_report_formats_of_the_config_are_honoured(run_copy: Path) -> None:
    config = run_copy / "config.resolved.yaml"
    raw = yaml.safe_load(config.read_text())
    raw["report"]["formats"] = ["md"]
    config.write_text(yaml.safe_dump(raw))
    for name in REPORT_FILES:
        (run_copy / name).unlink(missing_ok=True)
    paths = build_report(run_copy)
    assert paths.html is None and paths.json is None and paths.md is not None
    assert [n for n in REPORT_FILES if (run_copy / n).exists()] == ["report.md"]


@pytest.mark.parametrize("artifact", REQUIRED_ARTIFACTS)
def test_missing_core_artifact_is_one_clear_error(run_copy: Path, artifact: str) -> None:
    for name in REPORT_FILES:  # a run without a report yet (runs now render one themselves)
        (run_copy / name).unlink(missing_ok=True)
    (run_copy / artifact).unlink()
    with pytest.raises(DataError, match=re.escape(artifact)) as info:
        build_report(run_copy)
    assert "\n" not in str(info.value)
    assert not any((run_copy / name).exists() for name in REPORT_FILES)


def test_damaged_artifact_and_missing_directory(run_copy: Path, tmp_path: Path) -> None:
    (run_copy / "metrics.json").write_text("{ not json")
    with pytest.raises(DataError, match="metrics.json: not readable JSON"):
        build_report(run_copy)
    with pytest.raises(DataError, match="does not exist"):
        build_report(tmp_path / "nowhere")


def test_cli_style_error_has_no_traceback(run_copy: Path) -> None:
    from typer.testing import CliRunner

    from scorelab.cli.commands import _user_errors

    (run_copy / "leaderboard.csv").unlink()
    wrapped = _user_errors(lambda: build_report(run_copy))
    import typer

    app = typer.Typer()
    app.command()(wrapped)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 1
    assert "leaderboard.csv" in result.output and "Traceback" not in result.output


def test_names_from_config_and_tables_are_escaped(tmp_path: Path) -> None:
    models = [dict(m) for m in TINY_MODELS[:2]]
    models[1]["name"] = XSS
    result = run(tiny_config(models), runs_dir=tmp_path)
    assert result.run_dir is not None
    paths = build_report(result.run_dir)
    html = paths.html.read_text()
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    md = paths.md.read_text()
    assert XSS not in md and r"\<script\>alert(1)\</script\>" in md
    frame = compare_runs([result.run_dir, result.run_dir])
    assert XSS not in compare_html(frame) and XSS not in compare_markdown(frame)


def test_an_artifact_in_another_shape_is_refused_not_guessed(run_copy: Path) -> None:
    """The report reads one spelling of each artifact: the contract's."""
    (run_copy / "fairness.json").write_text(json.dumps({
        "verdicts": [{"model": "scorecard", "attribute": "age_band", "verdict": "fail"}],
        "policy": [{"check": "direct_input", "model": "lightgbm", "column": "age"}]}))
    with pytest.raises(DataError, match=r"fairness\.json: field 'thresholds'"):
        build_report(run_copy)


def _rename_model(run_dir: Path, old: str, new: str) -> None:
    """Rename a model consistently in every artifact that names it."""
    board = run_dir / "leaderboard.csv"
    board.write_text(board.read_text().replace(f"{old},", f"{new},", 1))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["models"][new] = metrics["models"].pop(old)
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    predictions["model"] = predictions["model"].astype(str).replace({old: new})
    predictions.to_parquet(run_dir / "predictions.parquet", index=False)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["models"] = [new if m == old else m for m in manifest["models"]]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    study = json.loads((run_dir / "study.json").read_text())
    for model in study["models"]:
        if model["name"] == old:
            model["name"] = new
    (run_dir / "study.json").write_text(json.dumps(study))


def test_compare_runs_matches_models_by_name(tiny_run: Path, run_copy: Path) -> None:
    _rename_model(run_copy, "scorecard", "scorecard_v2")
    manifest = json.loads((run_copy / "manifest.json").read_text())
    manifest["run_id"] = "second"
    (run_copy / "manifest.json").write_text(json.dumps(manifest))
    comparison = compare_runs([tiny_run, run_copy])
    first = comparison.runs[0]
    auc = comparison.rows[comparison.rows["metric"] == "AUC"].set_index("model")
    assert auc.loc["lightgbm", "delta second"] == pytest.approx(0.0)
    assert np_isnan(auc.loc["scorecard", "second"])
    assert np_isnan(auc.loc["scorecard_v2", first])
    text = compare_markdown(comparison)
    assert "models in only one of" in text and "scorecard_v2" in text
    assert "| lightgbm |" not in text  # unchanged: named once, not a row of zeros
    assert "unchanged in every compared metric: lightgbm, suining" in text
    with pytest.raises(DataError, match="at least two"):
        compare_runs([tiny_run])


def np_isnan(value: object) -> bool:
    return value != value


def test_config_is_not_modified(run_copy: Path) -> None:
    before = yaml.safe_load((run_copy / "config.resolved.yaml").read_text())
    build_report(run_copy)
    assert yaml.safe_load((run_copy / "config.resolved.yaml").read_text()) == before
