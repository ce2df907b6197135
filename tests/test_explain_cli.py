"""`scorelab explain`: a citizen's letter from a run directory, and its errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.study.runner import run
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = [{"family": "expert", "name": "suining", "kind": "suining"},
              {"family": "trees", "name": "lightgbm", "kind": "lightgbm"}]
    cfg = make_config({"models": models, "evaluation": {"folds": 3, "bootstrap": 0},
                       "explain": {"sample_size": 200}, "fairness": {"bootstrap": 0}}, n=1500)
    return run(cfg, runs_dir=tmp_path_factory.mktemp("runs")).run_dir


def _audited(run_dir: Path) -> int:
    table = pd.read_parquet(run_dir / "explanations.parquet", columns=["citizen_id"])
    return int(table["citizen_id"].iloc[0])


def test_letter_names_score_decision_reasons_and_sources(run_dir: Path) -> None:
    citizen = _audited(run_dir)
    result = runner.invoke(app, ["explain", str(run_dir), "--citizen", str(citizen),
                                 "--family", "suining"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    row = predictions[(predictions["citizen_id"] == citizen)
                      & (predictions["model"] == "suining")].iloc[0]
    assert f"Score: {row['score']:.0f}" in text
    assert ("APPROVED" in text) and ("cut-off of 600" in text)
    assert "business data" in text and "administrative data" in text
    assert " points" in text and "log-odds" not in text
    assert "cost " in text or "gained " in text


def test_family_name_selects_its_only_model(run_dir: Path) -> None:
    citizen = _audited(run_dir)
    result = runner.invoke(app, ["explain", str(run_dir), "--citizen", str(citizen),
                                 "--family", "trees"])
    assert result.exit_code == 0
    assert "model 'lightgbm'" in result.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["--citizen", "999999"], "citizen 999999 is not in this run"),
    (["--citizen", "0", "--family", "astrology"], "no model or family 'astrology'"),
])
def test_unknown_citizen_or_family_is_one_line(run_dir: Path, args: list[str],
                                               fragment: str) -> None:
    result = runner.invoke(app, ["explain", str(run_dir), *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_citizen_outside_the_audit_sample_is_explained_on_demand(run_dir: Path) -> None:
    explained = set(pd.read_parquet(run_dir / "explanations.parquet")["citizen_id"])
    outside = next(i for i in range(1500) if i not in explained)
    result = runner.invoke(app, ["explain", str(run_dir), "--citizen", str(outside)])
    assert result.exit_code == 0, result.output
    assert f"citizen {outside}" in result.stdout and "Decision:" in result.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    ([], "explain needs either --citizen ID or --table FILE --row N"),
    (["--citizen", "1", "--table", "x.csv", "--row", "1"], "either --citizen"),
    (["--table", "x.csv"], "--table needs --row N"),
])
def test_explain_needs_one_person(run_dir: Path, args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["explain", str(run_dir), *args])
    assert result.exit_code == 1 and fragment in result.stderr
