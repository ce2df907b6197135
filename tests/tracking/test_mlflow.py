"""A small study logged to MLflow: the parent and a child per model hold the run
directory's numbers, tags and documents; the best model is found by AUC; each final
model loads as an MLflow pyfunc model that scores exactly as scorelab does; logging the
same run again adds no parent; a failure to log leaves the run directory complete."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import scorelab
from scorelab import api
from scorelab.cli.commands import app

pytestmark = pytest.mark.heavy  # runs a study: not in `make check`

mlflow = pytest.importorskip("mlflow")
runner = CliRunner()
LGBM = {"n_estimators": 20, "num_leaves": 7}
EXPERIMENT = "tracking_test"
MODELS = ("scorecard", "lightgbm", "stacking")


def _study(store: Path, runs: Path) -> dict[str, Any]:
    return {
        "name": "tracked", "seed": 3, "population": {"n_citizens": 600},
        "models": [
            {"family": "logit", "name": "scorecard",
             "params": {"max_n_bins": 4, "max_n_prebins": 8, "monotonic_trend": None}},
            {"family": "trees", "name": "lightgbm", "params": LGBM},
            {"family": "hybrid", "kind": "stacking", "name": "stacking",
             "params": {"inner_folds": 2, "estimators": [
                 {"name": "expert", "family": "expert"},
                 {"name": "gbm", "family": "trees", "params": LGBM}]}}],
        "evaluation": {"folds": 2, "bootstrap": 20, "n_jobs": 1},
        "explain": {"sample_size": 30}, "fairness": {"bootstrap": 0},
        "decision": {"costs": {"false_accept": 5, "false_reject": 1}},
        "report": {"formats": ["md"]},
        "output": {"runs_dir": str(runs), "mlflow": {
            "enabled": True, "tracking_uri": store.as_uri(), "experiment": EXPERIMENT}}}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> scorelab.Run:
    """The study, run with output.mlflow enabled (a file store in a temporary folder)."""
    root = tmp_path_factory.mktemp("tracking")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # (module scope: before conftest's)
        return scorelab.run(_study(root / "mlruns", root / "runs"))


@pytest.fixture
def store(tracked: scorelab.Run, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """MLflow's fluent API pointed at the study's store (put back after)."""
    assert tracked.mlflow is not None
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(tracked.mlflow.tracking_uri)
    try:
        yield mlflow.MlflowClient()
    finally:
        mlflow.set_tracking_uri(None)


def _parents(client: Any, run_id: str) -> list[Any]:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id],
                              f"tags.`scorelab.run_id` = '{run_id}' and "
                              "tags.`scorelab.level` = 'study'")


def _children(client: Any, parent_id: str) -> dict[str, Any]:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    found = client.search_runs([experiment.experiment_id],
                               f"tags.`mlflow.parentRunId` = '{parent_id}'")
    return {r.data.tags["scorelab.model"]: r for r in found}


def _expected_metrics(run_dir: Path, name: str) -> dict[str, float]:
    """A model's numbers, read straight from metrics.json and fairness.json."""
    practice = json.loads((run_dir / "metrics.json").read_text())["practice"]
    metrics = json.loads((run_dir / "metrics.json").read_text())["models"][name]
    fairness = json.loads((run_dir / "fairness.json").read_text())["models"][name]
    out = dict(metrics["observed"])
    for metric, (low, high) in metrics["intervals"].items():
        out[f"{metric}_low"], out[f"{metric}_high"] = low, high
    out["auc_true"] = metrics["true_outcome"]["auc"]
    out["oracle_ratio"] = metrics["oracle_ratio"]
    out["cutoff_score"] = metrics["decision"]["cutoff_score"]
    policy = practice["models"][name]["policies"][practice["policy"]]
    out["expected_cost"] = policy["expected_cost"]
    out["expected_cost_low"], out["expected_cost_high"] = policy["expected_cost_interval"]
    observed = [d for d in fairness["disparities"] if d["outcome"] == "observed"]
    out["worst_approval_ratio"] = min(d["worst_approval_ratio"] for d in observed
                                      if d["worst_approval_ratio"] is not None)
    out["worst_equalized_odds_difference"] = max(
        d["equalized_odds_difference"] for d in observed
        if d["equalized_odds_difference"] is not None)
    age = fairness["age"]
    out.update(age_approval_young=age["approval_young"], age_approval_rest=age["approval_rest"],
               age_approval_ratio=age["approval_ratio"], age_gap=age["approval_gap"],
               age_score_gap=age["score_gap"])
    for part in ("total", "true_risk", "response_beyond_true_risk", "proxy", "label_bias",
                 "residual", "unexplained", "proxy_share_of_unexplained"):
        out[f"age_gap_decomposition.{part}"] = age["decomposition"][part]
    return {k: float(v) for k, v in out.items() if v is not None and math.isfinite(v)}


def test_the_parent_and_a_child_per_model_hold_the_run_directory(
        tracked: scorelab.Run, store: Any) -> None:
    manifest = json.loads((tracked.path / "manifest.json").read_text())
    (parent,) = _parents(store, manifest["run_id"])
    assert parent.info.run_id == tracked.mlflow.parent_run_id
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    assert {k: tags[f"scorelab.{k}"] for k in ("run_id", "config_hash", "data_fingerprint")} \
        == {k: manifest[k] for k in ("run_id", "config_hash", "data_fingerprint")}
    assert tags["scorelab.scorelab_version"] == manifest["versions"]["scorelab"]
    assert tags["scorelab.format_version"] == str(manifest["format_version"])
    assert tags["scorelab.run_dir"] == tracked.path.resolve().as_uri()
    # the flattened resolved config
    params = parent.data.params
    assert params["population.n_citizens"] == "600" and params["name"] == "tracked"
    assert params["models.1.params.n_estimators"] == "20"
    # the study's numbers: oracle AUC and the validity counts of a synthetic run
    metrics = json.loads((tracked.path / "metrics.json").read_text())
    validity = json.loads((tracked.path / "validity.json").read_text())
    assert parent.data.metrics["oracle_auc"] == pytest.approx(metrics["oracle"]["auc"])
    assert parent.data.metrics["validity_n_checks"] == validity["n_checks"]
    assert parent.data.metrics["validity_n_failed"] == validity["n_failed"]
    files = {f.path for f in store.list_artifacts(parent.info.run_id)}
    assert {"report.md", "leaderboard.csv", "config.resolved.yaml", "manifest.json",
            "run_directory.txt"} <= files
    link = Path(store.download_artifacts(parent.info.run_id, "run_directory.txt")).read_text()
    assert str(tracked.path.resolve()) in link

    children = _children(store, parent.info.run_id)
    assert sorted(children) == sorted(MODELS)
    for name, child in children.items():
        expected = _expected_metrics(tracked.path, name)
        assert set(child.data.metrics) == set(expected), name
        for key, value in expected.items():
            assert child.data.metrics[key] == pytest.approx(value, rel=1e-12), (name, key)
        assert {child.data.params[k] for k in ("family", "kind", "role")} <= {
            "logit", "scorecard", "trees", "lightgbm", "hybrid", "stacking", "original"}
        assert child.data.tags["scorelab.run_id"] == manifest["run_id"]
        assert {"card.md", "card.json", "model.json"} <= {
            f.path for f in store.list_artifacts(child.info.run_id)}
    assert children["lightgbm"].data.params["n_estimators"] == "20"
    assert children["stacking"].data.params["estimators.1.params.num_leaves"] == "7"


def test_search_runs_finds_the_best_model_by_auc(tracked: scorelab.Run, store: Any) -> None:
    best = mlflow.search_runs(
        experiment_names=[EXPERIMENT], max_results=1, order_by=["metrics.auc DESC"],
        filter_string=f"tags.mlflow.parentRunId = '{tracked.mlflow.parent_run_id}'")
    assert best["tags.scorelab.model"].iloc[0] == tracked.leaderboard["model"].iloc[0]
    assert best["metrics.auc"].iloc[0] == pytest.approx(tracked.leaderboard["auc"].iloc[0])


@pytest.mark.parametrize("name", MODELS)
def test_the_pyfunc_model_scores_as_scorelab_does(tracked: scorelab.Run, store: Any,
                                                  name: str) -> None:
    uri = tracked.mlflow.models[name]
    model = mlflow.pyfunc.load_model(uri)
    inputs = model.metadata.get_input_schema().input_names()
    rows = tracked.data.population().iloc[:40]
    # as a table arrives from a CSV file or a serving request: categories as text
    applicants = rows.apply(lambda c: c.astype(str) if isinstance(c.dtype, pd.CategoricalDtype)
                            else c)[[c for c in inputs if c in rows]]
    served = model.predict(applicants)
    pd.testing.assert_frame_equal(served, tracked.score(applicants, model=name, reasons=4))
    pd.testing.assert_frame_equal(served, tracked.score(rows, model=name, reasons=4))
    assert (served["model"] == name).all() and served["p_default"].between(0, 1).all()
    no_reasons = model.predict(applicants.iloc[:5], params={"reasons": 0})
    pd.testing.assert_frame_equal(no_reasons, tracked.score(applicants.iloc[:5], model=name,
                                                            reasons=0))


def test_the_pyfunc_model_equals_scorelab_score(tracked: scorelab.Run, store: Any,
                                                tmp_path: Path) -> None:
    rows = tracked.data.population().iloc[:25]
    table = tmp_path / "applicants.parquet"
    rows.to_parquet(table)
    out = tmp_path / "scored.parquet"
    result = runner.invoke(app, ["score", str(tracked.path), str(table), "--out", str(out),
                                 "--model", "lightgbm"])
    assert result.exit_code == 0, result.output
    model = mlflow.pyfunc.load_model(tracked.mlflow.models["lightgbm"])
    # loaded by scorelab's loader module from a run directory, not unpickled
    assert model.metadata.flavors["python_function"]["loader_module"] == \
        "scorelab.tracking.pyfunc"
    local = Path(mlflow.artifacts.download_artifacts(tracked.mlflow.models["lightgbm"]))
    files = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert {"MLmodel", "input_example.json", "data/run/models/lightgbm/final.skops",
            "data/run/manifest.json", "data/run/population.parquet"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))
                or "/folds/" in f]
    served = model.predict(rows.apply(
        lambda c: c.astype(str) if isinstance(c.dtype, pd.CategoricalDtype) else c))
    pd.testing.assert_frame_equal(served, pd.read_parquet(out), check_dtype=False)


def test_logging_a_run_again_finds_its_parent(tracked: scorelab.Run, store: Any,
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run_id = tracked.id
    result = runner.invoke(app, ["log", str(tracked.path)])  # the run's own output.mlflow
    assert result.exit_code == 0, result.output
    assert "already in MLflow" in result.stdout and tracked.mlflow.parent_run_id in result.stdout
    assert len(_parents(store, run_id)) == 1
    # a logging that broke off is completed in the same parent, nothing twice
    parent_id = tracked.mlflow.parent_run_id
    store.delete_tag(parent_id, "scorelab.logged")
    again = api.log_run(tracked.path)
    assert (again.parent_run_id, again.already_logged) == (parent_id, False)
    assert again.children == tracked.mlflow.children and again.models == tracked.mlflow.models
    assert len(_parents(store, run_id)) == 1 and len(_children(store, parent_id)) == 3
    # another store (SQLite): logged once, then found by the run id
    other = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = runner.invoke(app, ["log", str(tracked.path), "--tracking-uri", other,
                                "--no-models"])
    second = runner.invoke(app, ["log", str(tracked.path), "--tracking-uri", other])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "logged to MLflow (3 model runs, 0 pyfunc models)" in first.stdout
    assert "already in MLflow" in second.stdout
    client = mlflow.MlflowClient(other)
    assert len(_parents(client, run_id)) == 1
    # its artifacts beside the database, not in ./mlruns of the current folder
    assert (tmp_path / "artifacts" / EXPERIMENT).is_dir() and not any(elsewhere.iterdir())


@pytest.mark.parametrize(("failure", "said"), [
    (ConnectionError("the tracking server went away\nmid-way"),
     "ConnectionError: the tracking server went away mid-way"),
    (KeyboardInterrupt(), "(interrupted)")])
def test_a_failure_to_log_warns_and_keeps_the_run(tracked: scorelab.Run,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture,
                                                  failure: BaseException, said: str) -> None:
    before = sorted(p.relative_to(tracked.path) for p in tracked.path.rglob("*"))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise failure

    monkeypatch.setattr(api, "_log_to_mlflow", broken)
    with caplog.at_level(logging.WARNING, logger="scorelab.api"):
        assert api._log_after_run(tracked, _target(tracked)) is None
    (record,) = [r for r in caplog.records if r.name == "scorelab.api"]
    message = record.getMessage()
    assert "\n" not in message and said in message
    assert f"its run directory is complete; log it later with: scorelab log {tracked.path}" \
        in message
    assert sorted(p.relative_to(tracked.path) for p in tracked.path.rglob("*")) == before
    assert scorelab.load_run(tracked.path).id == tracked.id  # still a complete run


def _target(tracked: scorelab.Run) -> Any:
    from scorelab.tracking import TrackingTarget

    assert tracked.mlflow is not None
    return TrackingTarget(tracked.mlflow.tracking_uri, EXPERIMENT)
