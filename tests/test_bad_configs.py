"""The bad-config corpus (tests/bad_inputs/configs): each case fails with one line that
names the key or column, exit 1, no traceback, and nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scorelab.cli import app

CORPUS = Path(__file__).parent / "bad_inputs" / "configs"
STAGE_LINE = re.compile(r"^\w+: \d+\.\d s$")  # `run` reports each stage's time when piped
runner = CliRunner()


def _cases(name: str) -> list[tuple[str, str]]:
    return sorted(yaml.safe_load((CORPUS / name).read_text()).items())


def _error_line(result) -> str:
    """The one error line of a failed command (stage-time lines aside)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not STAGE_LINE.match(line.strip())]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _listing() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir())


def test_every_corpus_file_has_an_expected_message() -> None:
    listed = {f for name in ("expected.yaml", "expected_before_fitting.yaml")
              for f, _ in _cases(name)}
    configs = {p.name for p in CORPUS.glob("*.yaml")} - {"expected.yaml",
                                                         "expected_before_fitting.yaml"}
    assert listed == configs


@pytest.mark.parametrize(("name", "pattern"),
                         _cases("expected.yaml") + _cases("expected_before_fitting.yaml"))
def test_validate_rejects_with_one_line(name: str, pattern: str) -> None:
    before = _listing()
    line = _error_line(runner.invoke(app, ["validate", str(CORPUS / name)]))
    assert re.search(pattern, line), line
    assert _listing() == before


@pytest.mark.parametrize(("name", "pattern"), _cases("expected_before_fitting.yaml"))
def test_run_rejects_before_fitting(tmp_path: Path, name: str, pattern: str) -> None:
    before = _listing()
    result = runner.invoke(app, ["run", str(CORPUS / name), "--runs-dir",
                                 str(tmp_path / "runs")])
    line = _error_line(result)
    assert re.search(pattern, line), line
    assert "fit_predict" not in result.stderr  # stopped before any model was fitted
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir())
    assert _listing() == before
