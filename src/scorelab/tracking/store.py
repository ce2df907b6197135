"""Where runs are tracked, and the checks made before a study fits anything.

:func:`tracking_target` resolves ``output.mlflow`` (and the command line's overrides)
into a :class:`TrackingTarget`; :func:`check_target` makes sure the extra is installed
and the store answers, each failure one line. :func:`mlflow_session` gives the client
of a target, and is the one place process-wide state is touched, only while scorelab
logs: the opt-in to MLflow's file store, no HTTP retries while checking, MLflow's own
INFO lines and its warnings about itself kept quiet. MLflow's global tracking URI and
active run are never touched: scorelab logs through an ``MlflowClient`` of the target.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scorelab.config import DEFAULT_TRACKING_URI, MlflowTracking
from scorelab.core.messages import one_line
from scorelab.exceptions import ConfigError, OutputError

__all__ = ["INSTALL_HINT", "TrackingTarget", "check_target", "mlflow_installed",
           "mlflow_session", "require_mlflow", "tracking_target"]

INSTALL_HINT = "pip install 'scorelab[mlflow]'"
#: Seconds a remote tracking server has to answer the check before fitting.
CHECK_TIMEOUT = 10
#: MLflow's own switch for its file store (in maintenance mode in MLflow 3).
ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"


@dataclass(frozen=True)
class TrackingTarget:
    """A resolved MLflow destination: the store, the experiment, whether models go too."""

    tracking_uri: str
    experiment: str
    log_models: bool = True

    @property
    def scheme(self) -> str:
        """``sqlite``, ``http``, ``https``, ``file``, ``databricks``, ..."""
        parsed = urlparse(self.tracking_uri)
        return "file" if len(parsed.scheme) <= 1 else parsed.scheme  # C:\\ is a path

    @property
    def is_file_store(self) -> bool:
        return self.scheme == "file"

    def artifact_folder(self) -> Path | None:
        """Where a new experiment of a local SQLite store keeps its artifacts: beside
        the database (``mlruns/artifacts/<experiment>``); None for other stores (they
        have their own artifact root)."""
        database = _sqlite_path(self.tracking_uri) if self.scheme == "sqlite" else ""
        if not database or database == ":memory:":
            return None
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.experiment).strip(".") or "experiment"
        return Path(database).resolve().parent / "artifacts" / name


def mlflow_installed() -> bool:
    """Whether the ``mlflow`` extra is importable (found without importing it)."""
    return importlib.util.find_spec("mlflow") is not None


def tracking_target(section: MlflowTracking, study: str, *, tracking_uri: str | None = None,
                    experiment: str | None = None) -> TrackingTarget:
    """``output.mlflow`` resolved: the URI given here, else the section's, else
    ``MLFLOW_TRACKING_URI``, else a SQLite store in ``mlruns/`` (its folder made here);
    the experiment given, else the section's, else the study's name."""
    uri = tracking_uri or section.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri:
        database = Path(_sqlite_path(DEFAULT_TRACKING_URI)).resolve()
        database.parent.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{database}"
    elif "://" not in uri and ":" not in uri.split("/")[0] and uri != "databricks":
        uri = Path(uri).resolve().as_uri()  # a folder: MLflow's file store
    return TrackingTarget(tracking_uri=uri, experiment=experiment or section.experiment
                          or study, log_models=section.log_models)


def require_mlflow(what: str) -> None:
    """One line saying how to install the extra, when it is missing."""
    if not mlflow_installed():
        raise ConfigError(f"{what} needs MLflow, which is not installed; install the extra: "
                          f"{INSTALL_HINT}")


#: Warnings MLflow gives about itself while scorelab logs (not about the user's data).
QUIET_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    # when mlflow.pyfunc is first imported: about MLflow's own type hints, not ours
    (r".*Any type hint is inferred as AnyType", UserWarning),
    # MLflow's SQL store (sqlite:) uses a loader strategy SQLAlchemy 2.1 deprecates
    (r"The ``noload`` loader strategy is deprecated", DeprecationWarning),
)


@contextmanager
def mlflow_session(target: TrackingTarget, *, checking: bool = False) -> Iterator[Any]:
    """MLflow set up for ``target`` while the block runs, everything put back after;
    yields an ``MlflowClient`` of the target's store (MLflow's global tracking URI and
    active run are never touched)."""
    env = {}
    if target.is_file_store:
        env[ALLOW_FILE_STORE] = "true"  # the user asked for a file store: opt in for them
    if checking:  # one quick answer, not minutes of retries with back-off
        env.update(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
                   MLFLOW_HTTP_REQUEST_TIMEOUT=str(CHECK_TIMEOUT))
    saved_env = {k: os.environ.get(k) for k in env}
    quiet = [logging.getLogger(n) for n in ("mlflow", "alembic")]
    levels = [lg.level for lg in quiet]
    os.environ.update(env)
    for lg in quiet:
        if not lg.isEnabledFor(logging.DEBUG):  # scorelab -v shows everything
            lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for message, category in QUIET_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=category)
            from mlflow import MlflowClient

            yield MlflowClient(tracking_uri=target.tracking_uri)
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)


def check_target(target: TrackingTarget, what: str = "output.mlflow",
                 fix: str = "fix output.mlflow.tracking_uri, or run without MLflow") -> None:
    """Before any fitting: the extra is installed, the store answers, and the experiment
    is not deleted. Each failure is one line naming the URI and ``what`` asked for it,
    ending with how to ``fix`` it.

    Raises
    ------
    ConfigError
        MLflow is not installed (the line says how to install it).
    OutputError
        The tracking store cannot be reached or opened, or the experiment is deleted.
    """
    require_mlflow(what)
    if target.scheme == "sqlite":
        _check_sqlite_folder(target, what)
    try:
        with mlflow_session(target, checking=True) as client:
            experiment = client.get_experiment_by_name(target.experiment)
    except Exception as exc:  # noqa: BLE001 - MLflow raises many types for an unreachable store
        raise OutputError(f"{what}: cannot reach the MLflow tracking store "
                          f"'{target.tracking_uri}' ({_reason(exc)}); start the server, "
                          f"{fix}") from None
    if experiment is not None and experiment.lifecycle_stage == "deleted":
        raise OutputError(f"{what}: MLflow experiment '{target.experiment}' is deleted in "
                          f"'{target.tracking_uri}'; restore it (mlflow experiments restore) "
                          "or set output.mlflow.experiment to another name")


def _sqlite_path(uri: str) -> str:
    """The database file of a SQLite URI: ``sqlite:///rel.db`` -> ``rel.db``,
    ``sqlite:////abs.db`` -> ``/abs.db`` ("" for an in-memory database)."""
    path = urlparse(uri).path
    return path.removeprefix("/")


def _check_sqlite_folder(target: TrackingTarget, what: str) -> None:
    """A SQLite store's folder exists and is writable (SQLite's own message is only
    'unable to open database file')."""
    path = _sqlite_path(target.tracking_uri)
    if not path or path == ":memory:":
        return
    folder = Path(path).parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise OutputError(f"{what}: cannot reach the MLflow tracking store "
                          f"'{target.tracking_uri}' (folder '{folder}' is missing or not "
                          "writable)")


def _reason(exc: BaseException) -> str:
    """The root cause of a failure in a few words (MLflow wraps the network's error in
    paragraphs): the innermost exception of the chain."""
    seen = set()
    while id(exc) not in seen and (exc.__cause__ or exc.__context__) is not None:
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = one_line(exc, 160)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
