"""MLflow as an option: nothing of it without the option, and every mistake one line
before any fitting (the extra missing, a store that does not answer), the default store,
and what the config's parameters look like in MLflow."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import scorelab
from scorelab.cli.commands import app
from scorelab.config import MlflowTracking, config_from_dict
from scorelab.exceptions import ConfigError, OutputError
from scorelab.tracking import check_target, tracking_target
from scorelab.tracking.content import MAX_PARAM_CHARS, flatten

runner = CliRunner()
#: A study that would take minutes: the checks must stop it before any fitting.
LONG = {"name": "never_fitted", "population": {"n_citizens": 50_000},
        "models": [{"family": "trees", "name": "lightgbm"}]}


def _config(tmp_path: Path, mlflow: dict, runs: Path) -> Path:
    raw = {**LONG, "output": {"runs_dir": str(runs), "mlflow": mlflow}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_without_the_option_scorelab_imports_nothing_of_mlflow() -> None:
    code = ("import sys, scorelab, scorelab.api, scorelab.cli.commands, scorelab.tracking\n"
            "from scorelab.api import _mlflow_target\n"
            "config = scorelab.load_config('configs/default.yaml')\n"
            "assert _mlflow_target(config, None) is None\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "[]"


def test_the_section_is_off_by_default_and_refuses_unknown_keys() -> None:
    section = config_from_dict({}).output.mlflow
    assert (section.enabled, section.tracking_uri, section.experiment,
            section.log_models) == (False, None, None, True)
    with pytest.raises(ConfigError, match="output.mlflow.tracking_url"):
        config_from_dict({"output": {"mlflow": {"tracking_url": "sqlite:///x.db"}}})


def test_the_default_store_is_sqlite_in_mlruns(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    target = tracking_target(MlflowTracking(), "my_study")
    assert target.tracking_uri == f"sqlite:///{tmp_path.resolve()}/mlruns/mlflow.db"
    assert target.experiment == "my_study" and (tmp_path / "mlruns").is_dir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert tracking_target(MlflowTracking(), "s").tracking_uri == "http://tracking.example:5000"
    given = MlflowTracking(tracking_uri="store", experiment="credit")
    target = tracking_target(given, "s")  # a folder: MLflow's file store
    assert (target.tracking_uri, target.experiment, target.is_file_store) == (
        (tmp_path / "store").resolve().as_uri(), "credit", True)


def test_a_missing_extra_is_one_line_before_any_fitting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scorelab.tracking.store.mlflow_installed", lambda: False)
    runs = tmp_path / "runs"
    config = _config(tmp_path, {}, runs)
    started = time.perf_counter()
    result = runner.invoke(app, ["run", str(config), "--mlflow"])
    _one_line_error(result, "needs MLflow, which is not installed",
                    "pip install 'scorelab[mlflow]'")
    assert time.perf_counter() - started < 30 and not runs.exists()
    with pytest.raises(ConfigError, match=r"scorelab\[mlflow\]"):
        scorelab.run(config, mlflow=True)
    assert not runs.exists()


def test_an_unreachable_store_is_one_line_before_any_fitting(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    config = _config(tmp_path, {"enabled": True, "tracking_uri": "http://127.0.0.1:9"}, runs)
    started = time.perf_counter()
    result = runner.invoke(app, ["run", str(config)])
    _one_line_error(result, "cannot reach the MLflow tracking store 'http://127.0.0.1:9'")
    assert time.perf_counter() - started < 30 and not runs.exists()
    missing = tmp_path / "no" / "such" / "folder" / "m.db"
    with pytest.raises(OutputError, match="folder .* is missing or not writable"):
        check_target(tracking_target(MlflowTracking(tracking_uri=f"sqlite:///{missing}"),
                                     "s"))
    assert not missing.parent.exists()


def test_the_config_becomes_dotted_parameters() -> None:
    config = {"population": {"n_citizens": 900, "causes": {"age_proxy": {"strength": 0.8}}},
              "models": [{"family": "expert", "params": {"rules": {"Records: yes": -100}}},
                         {"family": "trees", "params": {}}],
              "fairness": {"attributes": ["age_band", "sex"]}, "run": {"max_minutes": None},
              "long": "x" * (MAX_PARAM_CHARS + 10)}
    params = flatten(config)
    assert params["population.n_citizens"] == "900"
    assert params["population.causes.age_proxy.strength"] == "0.8"
    assert params["models.0.family"] == "expert"
    # keys MLflow would refuse stay inside one JSON value
    assert params["models.0.params.rules"] == '{"Records: yes": -100}'
    assert params["models.1.params"] == "{}"
    assert params["fairness.attributes"] == '["age_band", "sex"]'
    assert params["run.max_minutes"] == "null"
    assert len(params["long"]) == MAX_PARAM_CHARS and params["long"].endswith("...")
