"""`scorelab compare`: accuracy and fairness changes per model, the config keys that
changed, a warning on different data, and "identical" when nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.report import compare_runs
from scorelab.study.runner import run
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

runner = CliRunner()
MODELS = [{"family": "expert", "name": "suining", "kind": "suining"},
          {"family": "logit", "name": "scorecard", "kind": "scorecard"},
          {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
           "params": {"n_estimators": 40}}]


def _study(runs_dir: Path, n_estimators: int = 40, seed: int = 5) -> Path:
    models = [dict(m) for m in MODELS]
    models[2] = {**models[2], "params": {"n_estimators": n_estimators}}
    config = make_config({"name": "cmp", "models": models,
                          "evaluation": {"folds": 3, "bootstrap": 30},
                          "explain": {"enabled": False},
                          "fairness": {"bootstrap": 20, "min_group_size": 30},
                          "output": {"save_models": "none"},
                          "report": {"formats": ["md"]}},  # compare never reads the report
                         n=1000, seed=seed)
    result = run(config, runs_dir=runs_dir)
    assert result.run_dir is not None
    return result.run_dir


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A run, the same study again, and the study with one model parameter changed."""
    base = tmp_path_factory.mktemp("compare")
    return _study(base / "a"), _study(base / "b"), _study(base / "c", n_estimators=80)


def test_two_identical_runs_are_identical(three_runs: tuple[Path, Path, Path]) -> None:
    a, same, _ = three_runs
    result = runner.invoke(app, ["compare", str(a), str(same)])
    assert result.exit_code == 0, result.output
    assert "identical" in result.stdout
    assert "+0.000" not in result.stdout  # no rows of zeros
    assert compare_runs([a, same]).identical
    # determinism: the same config and seed give the same numbers, file by file
    for name in ("metrics.json", "fairness.json", "leaderboard.csv"):
        assert (a / name).read_text() == (same / name).read_text(), name
    for name in ("predictions.parquet", "fairness_by_group.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(same / name))


def test_one_changed_parameter_shows_that_model_and_that_key(
        three_runs: tuple[Path, Path, Path]) -> None:
    a, _, changed = three_runs
    comparison = compare_runs([a, changed])
    assert not comparison.identical and comparison.same_data
    moved = comparison.changed_rows()
    assert set(moved["model"]) == {"lightgbm"}  # the other models' numbers are untouched
    assert {"AUC", "worst four-fifths ratio", "young / rest approval"} <= set(moved["metric"])
    label = comparison.runs[1]
    assert comparison.config_changes[label] == [("models[lightgbm].params.n_estimators",
                                                 40, 80)]
    result = runner.invoke(app, ["compare", str(a), str(changed), "--markdown"])
    assert result.exit_code == 0, result.output
    assert "models\\[lightgbm\\].params.n_estimators: 40 → 80" in result.stdout
    assert "unchanged in every compared metric: scorecard, suining" in result.stdout
    payload = json.loads(runner.invoke(app, ["compare", str(a), str(changed),
                                             "--json"]).stdout)
    assert payload["identical"] is False
    assert payload["config_changes"][label] == [
        {"key": "models[lightgbm].params.n_estimators", "before": 40, "after": 80}]
    rows = [r for r in payload["rows"] if r["model"] == "lightgbm" and r["metric"] == "AUC"]
    assert rows and isinstance(rows[0][f"beyond interval {label}"], bool)


def test_runs_on_different_data_are_flagged(three_runs: tuple[Path, Path, Path],
                                            tmp_path: Path) -> None:
    a = three_runs[0]
    other = _study(tmp_path, seed=6)
    comparison = compare_runs([a, other])
    assert not comparison.same_data and not comparison.identical
    result = runner.invoke(app, ["compare", str(a), str(other)])
    assert "WARNING: the runs are on different data" in result.stdout
    assert comparison.config_changes[comparison.runs[1]] == [("seed", 5, 6)]
