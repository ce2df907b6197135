"""``scorelab lda`` refuses bad requests with one line, exit 1 and no run folder.

A budget of 0, an unknown reference model and an empty search space are refused before
the population is drawn (the harness of tests/bad_inputs checks the one line); the
corpus files are the same configs ``validate`` refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from tests.bad_inputs.harness import digest, earlier_run, error_line

CORPUS = Path(__file__).parents[1] / "bad_inputs" / "configs"
runner = CliRunner()


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    path = tmp_path / "lda.yaml"
    path.write_text("population: {n_citizens: 300}\n"
                    "models:\n  - {family: trees, name: lightgbm, kind: lightgbm}\n"
                    "lda: {families: [trees/lightgbm], mitigation: false}\n")
    return path


@pytest.mark.parametrize(("args", "pattern"), [
    (["--budget", "0"], r"--budget: 0 candidates; give at least 1 \(lda.budget is 60\)"),
    (["--budget", "-3"], r"--budget: -3 candidates; give at least 1"),
    (["--reference", "nope"],
     r"lda reference: no model 'nope' in the config \(models: lightgbm\)"),
])
def test_bad_request_gives_one_line_and_no_run(tmp_path: Path, small_config: Path,
                                              args: list[str], pattern: str) -> None:
    runs = tmp_path / "runs"
    earlier = earlier_run(runs)
    kept = digest(runs)
    result = runner.invoke(app, ["lda", str(small_config), "--runs-dir", str(runs), *args])
    error_line(result, pattern)
    assert digest(runs) == kept and sorted(runs.iterdir()) == [earlier]


@pytest.mark.parametrize(("name", "pattern"), [
    ("lda_families_empty.yaml", r"lda.families: List should have at least 1 item"),
    ("lda_params_empty_values.yaml", (r"params.trees/lightgbm.num_leaves: the list of values "
     r"is empty, so the search space is empty")),
    ("lda_params_family_not_searched.yaml",
     r"params: 'logit/scorecard' is not one of lda.families \(trees/lightgbm\)"),
    ("lda_budget_zero.yaml", r"lda.budget: Input should be greater than or equal to 1"),
])
def test_empty_or_bad_space_gives_one_line_and_no_run(tmp_path: Path, name: str,
                                                      pattern: str) -> None:
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["lda", str(CORPUS / name), "--runs-dir", str(runs)])
    error_line(result, pattern)
    assert not runs.exists() or not any(runs.iterdir())


def test_an_unknown_lda_family_is_named(tmp_path: Path) -> None:
    path = tmp_path / "lda.yaml"
    path.write_text("models:\n  - {family: trees, name: lightgbm, kind: lightgbm}\n"
                    "lda: {families: [trees/xgboost], params: {}}\n")
    result = runner.invoke(app, ["lda", str(path), "--runs-dir", str(tmp_path / "runs")])
    error_line(result, r"lda.families: 'trees/xgboost' is not a family/kind")
    assert not (tmp_path / "runs").exists()
