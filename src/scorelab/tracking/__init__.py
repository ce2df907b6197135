"""Runs where data scientists already look: a run directory logged to MLflow tracking,
and each final model as an MLflow ``pyfunc`` model that loads without pickle.

A surface over run directories, like the report: it reads a run through
:func:`scorelab.runs.load_run` only (``content`` says what is logged, ``logger`` logs
it, ``store`` resolves and checks the tracking store, ``pyfunc`` is the loader module of
the logged models, whose ``predict`` is scorelab's own scorer). MLflow, the ``mlflow``
extra, is imported inside the functions that use it, never when this package is
imported: without the extra and the option, scorelab imports nothing of MLflow.

Imports the foundation, ``config``, ``runs`` and ``applicants`` (the scorer); nothing
imports it but ``api``.
"""

from scorelab.tracking.logger import LoggedRun, log_run
from scorelab.tracking.pyfunc import ScorelabPyfunc, score_rows
from scorelab.tracking.store import (
    INSTALL_HINT,
    TrackingTarget,
    check_target,
    mlflow_installed,
    require_mlflow,
    tracking_target,
)

__all__ = ["INSTALL_HINT", "LoggedRun", "ScorelabPyfunc", "TrackingTarget", "check_target",
           "log_run", "mlflow_installed", "require_mlflow", "score_rows", "tracking_target"]
