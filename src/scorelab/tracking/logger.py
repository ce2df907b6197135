"""A run directory logged to MLflow: one parent run for the study, a child per model.

The parent is found again by the scorelab run id (tag ``scorelab.run_id``), so logging
the same run directory twice adds nothing: a parent that was logged completely is
returned as it is, and one whose logging broke off is completed (its children are found
by their model's name; a model already logged is not logged again). Nothing is written
to the run directory.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorelab import __version__
from scorelab.runs import RunData
from scorelab.tracking.content import (
    TAG_PREFIX,
    model_metrics,
    model_params,
    model_tags,
    study_metrics,
    study_params,
    study_tags,
)
from scorelab.tracking.pyfunc import (
    BUNDLE_NAME,
    LOADER_MODULE,
    bundle_run,
    input_example,
    signature,
)
from scorelab.tracking.store import TrackingTarget, mlflow_session

__all__ = ["LoggedRun", "log_run"]

#: Tags that say what an MLflow run is and how far its logging got.
LEVEL = f"{TAG_PREFIX}level"          # "study" (the parent) or "model" (a child)
LOGGED = f"{TAG_PREFIX}logged"        # "complete" once everything is logged
MODEL_URI = f"{TAG_PREFIX}model_uri"  # the pyfunc model's URI (models:/...)
#: Files of the run directory logged with the parent, and with each child (per model).
STUDY_FILES = ("report.html", "report.md", "leaderboard.csv", "config.resolved.yaml",
               "manifest.json", "data_card.md")
MODEL_FILES = ("card.md", "card.json", "model.json")
#: The name of each pyfunc model inside its child run.
MODEL_NAME = "model"


@dataclass
class LoggedRun:
    """Where a run went in MLflow."""

    tracking_uri: str
    experiment: str
    experiment_id: str
    parent_run_id: str
    children: dict[str, str] = field(default_factory=dict)   # model -> MLflow run id
    models: dict[str, str] = field(default_factory=dict)     # model -> pyfunc model URI
    already_logged: bool = False

    def summary(self) -> str:
        """One line for the command line."""
        what = ("already in MLflow" if self.already_logged else
                f"logged to MLflow ({len(self.children)} model runs, "
                f"{len(self.models)} pyfunc models)")
        return (f"{what}: experiment '{self.experiment}', parent run {self.parent_run_id}, "
                f"tracking URI {self.tracking_uri}")


def _search_one(client: Any, experiment_id: str, tags: dict[str, str]) -> Any:
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    found = client.search_runs([experiment_id], filter_string=query, max_results=1,
                               order_by=["attributes.start_time ASC"])
    return found[0] if found else None


def _experiment_id(client: Any, target: TrackingTarget) -> str:
    """The experiment's id, creating it if missing (in a local SQLite store with its
    artifacts beside the database, not in ``./mlruns`` of whatever the current folder
    is, MLflow's default)."""
    experiment = client.get_experiment_by_name(target.experiment)
    if experiment is not None:
        return str(experiment.experiment_id)
    folder = target.artifact_folder()
    try:
        return str(client.create_experiment(
            target.experiment, artifact_location=None if folder is None else folder.as_uri()))
    except Exception:  # created meanwhile by another process
        experiment = client.get_experiment_by_name(target.experiment)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def _log_values(client: Any, run_id: str, params: dict[str, str],
                metrics: dict[str, float], tags: dict[str, str],
                model_id: str | None = None) -> None:
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric(k, v, now, 0, model_id=model_id)
                                      for k, v in metrics.items()],
                     params=[Param(k, v) for k, v in params.items()],
                     tags=[RunTag(k, v) for k, v in tags.items()])


def _log_files(client: Any, run_id: str, folder: Path, names: tuple[str, ...],
               artifact_path: str | None = None) -> None:
    for name in names:
        if (folder / name).is_file():
            client.log_artifact(run_id, str(folder / name), artifact_path)


def _description(run: RunData) -> str:
    best = run.model_names[0]
    auc = run.metrics["models"][best]["observed"].get("auc")
    pop = run.study.population
    return (f"scorelab study '{run.study.name}': {len(run.model_names)} models on "
            f"{pop.n_citizens:,} {pop.source} citizens, {run.study.folds}-fold; best AUC: "
            f"{best}" + (f" ({auc:.3f})" if isinstance(auc, float) else "")
            + f". Run directory: {run.run_dir.resolve()} (report.html there and among this "
            "run's artifacts).")


def log_run(run: RunData, target: TrackingTarget,
            on_model: Callable[[str], None] | None = None) -> LoggedRun:
    """Log ``run`` to ``target``: the parent (params: the flattened config; metrics:
    the study's; tags: run id, config hash, data fingerprint, versions; artifacts: the
    report, leaderboard, config, manifest and a link to the run directory), then a
    child per model (params, metrics, tags, its card) with its pyfunc model.

    ``on_model`` is called with each model's name before it is logged.
    """
    with mlflow_session(target) as client:
        experiment_id = _experiment_id(client, target)
        run_id = str(run.manifest["run_id"])
        parent = _search_one(client, experiment_id, {f"{TAG_PREFIX}run_id": run_id,
                                                     LEVEL: "study"})
        if parent is not None and parent.data.tags.get(LOGGED) == "complete":
            children = {r.data.tags.get(f"{TAG_PREFIX}model", ""): r.info.run_id
                        for r in client.search_runs(
                            [experiment_id],
                            f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")}
            return LoggedRun(target.tracking_uri, target.experiment, experiment_id,
                             parent.info.run_id, children, {
                                 n: r.data.tags[MODEL_URI] for n, r in (
                                     (n, client.get_run(i)) for n, i in children.items())
                                 if MODEL_URI in r.data.tags}, already_logged=True)
        if parent is None:
            parent = client.create_run(experiment_id, run_name=run_id, tags={
                **study_tags(run), LEVEL: "study", "mlflow.note.content": _description(run),
                "mlflow.source.name": "scorelab", "mlflow.source.type": "LOCAL"})
        parent_id = parent.info.run_id
        logged = LoggedRun(target.tracking_uri, target.experiment, experiment_id, parent_id)
        try:
            _log_values(client, parent_id, study_params(run), study_metrics(run),
                        {f"{TAG_PREFIX}best_model": run.model_names[0]})
            _log_files(client, parent_id, run.run_dir, STUDY_FILES)
            with tempfile.TemporaryDirectory(prefix="scorelab-mlflow-") as tmp:
                link = Path(tmp) / "run_directory.txt"
                link.write_text(f"{run.run_dir.resolve()}\n{run.run_dir.resolve().as_uri()}\n")
                client.log_artifact(parent_id, str(link))
            for name in run.model_names:
                if on_model is not None:
                    on_model(name)
                _log_child(client, run, name, target, experiment_id, parent_id, logged)
            client.set_tag(parent_id, LOGGED, "complete")
            client.set_terminated(parent_id, "FINISHED")
        except BaseException:
            _mark_failed(client.set_terminated, parent_id)
            raise
    return logged


def _mark_failed(finish: Callable[[str, str], Any], entity_id: str) -> None:
    """Mark a run or model FAILED, if the store still answers (the error that got us
    here is the one to report)."""
    try:
        finish(entity_id, "FAILED")
    except Exception:  # noqa: BLE001, S110 - the store may be the thing that failed
        pass


def _log_child(client: Any, run: RunData, name: str, target: TrackingTarget,
               experiment_id: str, parent_id: str, logged: LoggedRun) -> None:
    """One model's run: its values and card, then its pyfunc model (an MLflow logged
    model whose metrics are the run's)."""
    child = _search_one(client, experiment_id, {"mlflow.parentRunId": parent_id,
                                                f"{TAG_PREFIX}model": name})
    if child is None:
        child = client.create_run(experiment_id, run_name=name, tags={
            "mlflow.parentRunId": parent_id, LEVEL: "model",
            "mlflow.source.name": "scorelab", "mlflow.source.type": "LOCAL"})
    child_id = child.info.run_id
    logged.children[name] = child_id
    params = model_params(run, name)
    folder = run.run_dir / "models" / name
    saved = (folder / "model.json").is_file()
    model = None
    if MODEL_URI in child.data.tags:
        logged.models[name] = child.data.tags[MODEL_URI]
    elif target.log_models and saved and run.model_manifest(name).final is not None:
        model = client.create_logged_model(experiment_id, name=MODEL_NAME,
                                           source_run_id=child_id, params=params,
                                           tags=model_tags(run, name), model_type="scorelab")
    _log_values(client, child_id, params, model_metrics(run, name), model_tags(run, name),
                model_id=None if model is None else model.model_id)
    if saved:
        _log_files(client, child_id, folder, MODEL_FILES)
        _log_files(client, child_id, folder, tuple(run.model_manifest(name).deliverables))
    if model is not None:
        try:
            _log_pyfunc(client, run, name, child_id, model)
        except BaseException:
            _mark_failed(client.finalize_logged_model, model.model_id)
            raise
        uri = f"models:/{model.model_id}"
        client.set_tag(child_id, MODEL_URI, uri)
        logged.models[name] = uri
    client.set_terminated(child_id, "FINISHED")


def _log_pyfunc(client: Any, run: RunData, name: str, child_id: str, model: Any) -> None:
    """The final model saved as a pyfunc model (loader module and data folder, no
    pickle) into MLflow logged model ``model``, an output of run ``child_id``."""
    import mlflow.pyfunc
    from mlflow.entities import LoggedModelOutput
    from mlflow.models import Model

    with tempfile.TemporaryDirectory(prefix="scorelab-mlflow-") as tmp:
        data = bundle_run(run, name, Path(tmp) / BUNDLE_NAME)
        local = Path(tmp) / MODEL_NAME
        mlflow.pyfunc.save_model(
            str(local), loader_module=LOADER_MODULE, data_path=str(data),
            signature=signature(run, name), input_example=input_example(run, name),
            pip_requirements=[f"scorelab[mlflow]=={__version__}"],
            mlflow_model=Model(artifact_path=model.artifact_location, run_id=child_id,
                               model_uuid=model.model_id, model_id=model.model_id))
        client.log_model_artifacts(model.model_id, str(local))
    client.log_outputs(child_id, [LoggedModelOutput(model.model_id, step=0)])
    client.finalize_logged_model(model.model_id, "READY")
