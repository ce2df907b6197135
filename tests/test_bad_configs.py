"""The bad-config corpus (tests/bad_inputs/configs): each case fails with one line that
names the key or column, exit 1, no traceback, and nothing written; an earlier run in
the runs folder is never touched."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from tests.bad_inputs.harness import STAGE_LINE, cases, digest, earlier_run, error_line

CORPUS = Path(__file__).parent / "bad_inputs" / "configs"
EXPECTED = ("expected.yaml", "expected_before_fitting.yaml", "accepted.yaml")
runner = CliRunner()


def _cases(name: str) -> list[tuple[str, str]]:
    return cases(CORPUS / name)


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


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A runs folder holding one earlier run."""
    earlier_run(tmp_path / "runs")
    return tmp_path / "runs"


def test_every_corpus_file_has_an_expected_message() -> None:
    listed = {f for name in EXPECTED for f, _ in _cases(name)}
    configs = {p.name for p in CORPUS.glob("*.yaml")} - set(EXPECTED)
    assert listed == configs


def test_the_corpora_hold_at_least_100_cases() -> None:
    tables = Path(__file__).parent / "bad_inputs" / "tables" / "expected.yaml"
    recipes = Path(__file__).parent / "bad_inputs" / "runs" / "recipes.yaml"
    count = (sum(len(_cases(name)) for name in EXPECTED) + len(cases(tables))
             + len(cases(recipes)))
    assert count >= 100


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


@pytest.mark.parametrize(("name", "pattern"),
                         _cases("expected.yaml") + _cases("expected_before_fitting.yaml"))
def test_run_rejects_every_case_and_keeps_earlier_runs(runs_dir: Path, name: str,
                                                       pattern: str) -> None:
    before, kept = _listing(), digest(runs_dir)
    result = runner.invoke(app, ["run", str(CORPUS / name), "--runs-dir", str(runs_dir)])
    error_line(result, pattern)
    assert "fit_predict" not in result.stderr
    assert digest(runs_dir) == kept  # no new run, the earlier one untouched
    assert _listing() == before


@pytest.mark.parametrize(("name", "pattern"), _cases("accepted.yaml"))
def test_what_validate_accepts_runs_or_fails_before_fitting(runs_dir: Path, name: str,
                                                            pattern: str) -> None:
    """``validate`` says ok only for a config that ``run`` runs or refuses before any
    model is fitted (then with the same one line)."""
    before, kept = _listing(), digest(runs_dir)
    checked = runner.invoke(app, ["validate", str(CORPUS / name)])
    if checked.exit_code != 0:
        error_line(checked, pattern)
        return
    result = runner.invoke(app, ["run", str(CORPUS / name), "--runs-dir", str(runs_dir),
                                 "-n", "300"])
    if result.exit_code == 0:
        assert len(digest(runs_dir)) > len(kept)
        return
    error_line(result, pattern)
    assert "fit_predict" not in result.stderr
    assert digest(runs_dir) == kept
    assert _listing() == before


def test_a_50_mb_config_is_refused_quickly_in_a_short_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("name: " + "x" * 50_000_000 + "\n")
    start = time.monotonic()
    line = error_line(runner.invoke(app, ["validate", str(path)]),
                      r"huge.yaml: the file is 50.0 MB; a config is at most 1 MB")
    assert time.monotonic() - start < 5
    assert len(line) < 200


@pytest.mark.parametrize(("spec", "pattern"), [
    ({"family": "trees", "name": "lgb", "params": {"monotone_constraints": {"incom": 1}}},
     r"model 'lgb': params.monotone_constraints.incom: 'incom' is not an input of this model"
     r" \(inputs: applicant, income, late, Records\)"),
    ({"family": "trees", "name": "lgb", "params": {"monotone_constraints": {"AGE": 1}}},
     r"params.monotone_constraints.AGE: 'AGE' is not an input"),
    ({"family": "hybrid", "kind": "expert_boost", "name": "boost",
      "params": {"expert": {"family": "expert", "params": {"rules": {"late": -10}}},
                 "monotone_constraints": {"outcome": -1}}},
     r"model 'boost': params.monotone_constraints.outcome: 'outcome' is not an input"),
    ({"family": "trees", "name": "lgb", "drop_features": ["incom"]},
     r"model 'lgb': drop_features: 'incom' is not a feature column"),
])
def test_columns_a_model_names_are_checked_against_the_table(spec: dict, pattern: str) -> None:
    """What validate cannot see in the config alone: the columns of the loaded table
    (study/preflight.py check_model_columns; a raw ValueError of the first fit before)."""
    from scorelab.config import config_from_dict
    from scorelab.study.plan import Plan
    from scorelab.study.preflight import check_model_columns
    from scorelab.data.loaders import load_table_population
    from scorelab.exceptions import ConfigError

    tables = Path(__file__).parent / "bad_inputs" / "tables"
    cfg = config_from_dict({"population": {
        "source": "table", "path": str(tables / "ok.csv"), "target": "outcome",
        "default_value": "bad", "protected": {"AGE": "age", "Sex": "categorical"}},
        "models": [spec]})
    population = load_table_population(cfg.population)
    plan = Plan.of(cfg)
    with pytest.raises(ConfigError, match=pattern):
        check_model_columns(plan.models, population, plan.age.column)


def test_a_column_the_model_uses_passes_the_check() -> None:
    from scorelab.config import config_from_dict
    from scorelab.data.loaders import load_table_population
    from scorelab.study.plan import Plan
    from scorelab.study.preflight import check_model_columns

    tables = Path(__file__).parent / "bad_inputs" / "tables"
    cfg = config_from_dict({"population": {
        "source": "table", "path": str(tables / "ok.csv"), "target": "outcome",
        "default_value": "bad", "protected": {"AGE": "age"}},
        "models": [{"family": "trees", "name": "lgb", "use_protected": ["AGE"],
                    "params": {"monotone_constraints": {"income": -1, "AGE": 1}}}]})
    plan = Plan.of(cfg)
    check_model_columns(plan.models, load_table_population(cfg.population), plan.age.column)
