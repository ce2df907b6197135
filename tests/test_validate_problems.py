"""`scorelab validate` reports every problem of a config in one pass, up to
MAX_PROBLEMS, in one line (issue 31): the models, the cross-section rules and the table
are each checked whatever the others found."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.core.messages import MAX_PROBLEMS, problems_line
from tests.bad_inputs.harness import error_line

CORPUS = Path(__file__).parent / "bad_inputs" / "configs"
runner = CliRunner()


def test_a_model_and_the_table_are_both_named() -> None:
    line = error_line(runner.invoke(app, ["validate", str(CORPUS / "model_and_table_wrong.yaml")]),
                      r"model 'lightgbm': unknown parameter 'leaves'")
    assert "; population.target 'Outcome' is not a column of 'applicants.csv'" in line


def test_more_problems_than_the_line_holds_are_counted(tmp_path: Path) -> None:
    models = "\n".join(f"  - {{family: trees, name: m{i}, params: {{leaves{i}: 1}}}}"
                       for i in range(MAX_PROBLEMS + 2))
    config = tmp_path / "many.yaml"
    config.write_text(f"population: {{n_citizens: 300}}\nmodels:\n{models}\n")
    line = error_line(runner.invoke(app, ["validate", str(config)]),
                      r"model 'm0': unknown parameter 'leaves0'")
    assert line.count("unknown parameter") == MAX_PROBLEMS
    assert line.endswith("; ... (2 more problems)")


def test_problems_line() -> None:
    assert problems_line(["a", "b\nc"]) == "a; b c"
    assert problems_line(list("abcdefg"), 3) == "a; b; c; ... (4 more problems)"
