"""``report``, ``output`` and ``run``: what a run writes, where, and its time limit."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from scorelab.config.base import _Section

__all__ = ["DEFAULT_TRACKING_URI", "MlflowTracking", "Output", "Report", "RunLimits"]


class Report(_Section):
    """The rendered report."""

    formats: list[Literal["html", "md", "json"]] = Field(
        default_factory=lambda: ["html", "md", "json"], description="Report formats to write."
    )
    title: str = Field("scorelab study", description="Title of the report.")
    society_scale: bool | None = Field(
        None, description="Show the seed paper's society scale (the social-credit classes "
        "of its table 1). null = on a synthetic population only: a bank's applicants are "
        "not scored on a social-credit scale unless the config asks for it.")


#: Where runs are tracked when neither ``output.mlflow.tracking_uri`` nor the
#: ``MLFLOW_TRACKING_URI`` environment variable says: a SQLite store in ``mlruns/`` of the
#: current folder (its artifacts beside it in ``mlruns/artifacts/``).
DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"


class MlflowTracking(_Section):
    """Logging the run to MLflow (needs the extra: pip install 'scorelab[mlflow]')."""

    enabled: bool = Field(
        False, description="Log the run to MLflow once its run directory is written: a "
        "parent MLflow run for the study, a child run per model (parameters, metrics, tags, "
        "the report and model card) and each final model as an MLflow pyfunc model. "
        "`scorelab run --mlflow` turns it on for one run; `scorelab log RUN_DIR` logs an "
        "existing run directory.")
    tracking_uri: str | None = Field(
        None, min_length=1, description="MLflow tracking URI: sqlite:///path.db, "
        "http(s)://server, databricks, or a folder or file: URI (MLflow's file store, which "
        "scorelab opts into for you). null = the MLFLOW_TRACKING_URI environment variable "
        f"when set, else {DEFAULT_TRACKING_URI} (a local store in mlruns/ of the current "
        "folder). Checked before any fitting: a store that cannot be reached stops the "
        "run in one line.")
    experiment: str | None = Field(
        None, min_length=1, description="MLflow experiment the runs go to (created if "
        "missing); null = the study's name.")
    log_models: bool = Field(
        True, description="Also log each final model as an MLflow pyfunc model (its input "
        "signature, an input example, and the files its scorer needs); false = metrics, "
        "parameters and documents only.")


class Output(_Section):
    """Where artifacts go."""

    runs_dir: Path = Field(Path("runs"), description="Parent folder of run directories.")
    save_models: Literal["final", "folds", "both", "none"] = Field(
        "both", description="Models saved under models/<name>/: the final model refitted on "
        "every citizen (scores new applicants), the fold models (score and explain any "
        "citizen of the run out of fold), both, or none.")
    mlflow: MlflowTracking = Field(
        default_factory=MlflowTracking, description="Logging the run to MLflow tracking "
        "and each final model as an MLflow model (the mlflow extra).")


class RunLimits(_Section):
    """Resource guards of a run."""

    max_minutes: float | None = Field(
        None, gt=0.0, description="Stop the run (one line naming this key, nothing kept) once "
        "its wall time exceeds this many minutes; checked between stages and between fold "
        "fits. null = no limit.")
