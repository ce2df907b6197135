"""The bad-table corpus (tests/bad_inputs/tables): a config per damaged or malformed
table. `validate` and `run` each give one line naming the file and column (and the rows),
exit 1, no traceback, before any fitting, with no run directory made and an earlier run
untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from tests.bad_inputs.harness import cases, digest, earlier_run, error_line

CORPUS = Path(__file__).parent / "bad_inputs" / "tables"
CASES = cases(CORPUS / "expected.yaml")
runner = CliRunner()


def test_every_table_config_has_an_expected_message() -> None:
    configs = {p.name for p in CORPUS.glob("*.yaml")} - {"expected.yaml"}
    assert {name for name, _ in CASES} == configs
    assert len(CASES) >= 40


@pytest.mark.parametrize(("name", "pattern"), CASES)
def test_a_bad_table_is_refused_before_fitting(tmp_path: Path, name: str,
                                               pattern: str) -> None:
    runs_dir = tmp_path / "runs"
    earlier_run(runs_dir)
    corpus, kept = digest(CORPUS), digest(runs_dir)
    error_line(runner.invoke(app, ["validate", str(CORPUS / name)]), pattern)
    result = runner.invoke(app, ["run", str(CORPUS / name), "--runs-dir", str(runs_dir)])
    error_line(result, pattern)
    assert "fit_predict" not in result.stderr  # stopped before any model was fitted
    assert digest(runs_dir) == kept  # no run directory, the earlier run untouched
    assert digest(CORPUS) == corpus
