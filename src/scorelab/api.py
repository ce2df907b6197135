"""scorelab from Python: studies, runs and models as objects a data scientist can hold.

>>> import scorelab
>>> config = scorelab.load_config("configs/default.yaml", {"population.n_citizens": 5000})
>>> run = scorelab.run(config)                              # doctest: +SKIP
>>> run.leaderboard.head()                                  # doctest: +SKIP
>>> run.explain(42)["raised"]                               # doctest: +SKIP
>>> run.score(new_applicants)                               # doctest: +SKIP
>>> same = scorelab.load_run(run.path)                      # doctest: +SKIP

The command line is a thin layer over exactly these calls: ``scorelab run``,
``scorelab score`` and ``scorelab explain --json`` give the same numbers as
:func:`run`, :meth:`Run.score` and :meth:`Run.explain`. Every command reaches the
library through this module only (a test holds it), so what the command line can do,
Python can do with the same call.

Imports every layer; only the command line imports it.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator

from scorelab.applicants.explain import (
    Letter,
    explain_applicant,
    explain_citizen,
    explain_row,
)
from scorelab.applicants.score import load_final_model, score_applicants, score_chunks
from scorelab.applicants.stability import check_stability
from scorelab.benchmark import BenchmarkResult
from scorelab.benchmark import benchmark as _run_benchmark
from scorelab.config import (
    ExperimentConfig,
    MlflowTracking,
    apply_overrides,
    config_from_dict,
    dump_config,
    load_config,
)
from scorelab.core.messages import one_line
from scorelab.data.card import render_data_card_markdown
from scorelab.data.datasets import list_datasets
from scorelab.data.io import write_atomically
from scorelab.engine import Progress
from scorelab.exceptions import ConfigError, OutputError, ScorelabError, UnknownModel
from scorelab.lda import lda
from scorelab.lda.artifacts import guarantee_sentence, verdict_lines
from scorelab.report import build_report
from scorelab.report.compare import compare_html, compare_markdown, compare_runs, compare_table
from scorelab.report.pdf import print_pdf
from scorelab.runs.contract import ModelManifest
from scorelab.runs.housekeeping import list_runs, remove_stale
from scorelab.runs.interrupts import Interrupted, stop_on_signals
from scorelab.runs.reader import RunData
from scorelab.runs.reader import load_run as _load_run_data
from scorelab.serve.server import serve as _serve
from scorelab.study.onboard import Onboarding, init_config, propose_config
from scorelab.study.population import check_study, generate_to_file
from scorelab.study.runner import run as _run_study
from scorelab.study.scenarios import SCENARIO_DIR
from scorelab.study.scenarios import validate as validate_truth
from scorelab.tracking import (
    LoggedRun,
    TrackingTarget,
    check_target,
    require_mlflow,
    tracking_target,
)
from scorelab.tracking import log_run as _log_to_mlflow

__all__ = ["BenchmarkResult", "Interrupted", "LoggedRun", "Onboarding", "Run", "SCENARIO_DIR",
           "SavedModel", "apply_overrides", "benchmark", "build_report", "check_stability", "check_study",
           "compare_html", "compare_markdown", "compare_runs", "compare_table",
           "config_schema", "dump_config", "explain_applicant", "explain_citizen",
           "generate_to_file", "guarantee_sentence", "init_config", "lda", "list_datasets",
           "list_runs", "load_config", "load_run", "log_run", "print_pdf",
           "propose_config", "remove_stale", "render_data_card_markdown", "run",
           "save_text", "score_applicants", "serve", "stop_on_signals", "validate_truth",
           "verdict_lines"]

_REPR_ROWS = 8  # leaderboard rows in the text repr (keeps it under 20 lines)


@dataclass(frozen=True)
class SavedModel:
    """A final model of a run, loaded from its skops file, with its card and manifest."""

    name: str
    estimator: BaseEstimator
    card: dict[str, Any]
    manifest: ModelManifest

    def predict_proba(self, X: pd.DataFrame) -> Any:
        """The estimator's probabilities (columns: no default, default)."""
        return self.estimator.predict_proba(X[[c.name for c in self.manifest.inputs]])


class _SavedModels(Mapping[str, SavedModel]):
    """name -> :class:`SavedModel`, each loaded on first access."""

    def __init__(self, data: RunData) -> None:
        self._data = data
        self._cache: dict[str, SavedModel] = {}

    def __getitem__(self, name: str) -> SavedModel:
        if name not in self._data.model_names:
            raise UnknownModel(f"no saved model '{name}' in run '{self._data.run_dir.name}' "
                               f"(models: {', '.join(self._data.model_names)})")
        if name not in self._cache:
            manifest, estimator = load_final_model(self._data, name)
            card = self._data.model_card(name).model_dump(mode="json")  # validated
            self._cache[name] = SavedModel(name, estimator, card, manifest)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data.model_names)

    def __len__(self) -> int:
        return len(self._data.model_names)


class Run:
    """A run directory as an object, read through the run-directory contract.

    Get one from :func:`load_run` (any run directory, e.g. one the CLI wrote) or as the
    result of :func:`run`. Everything comes from the directory; nothing is retrained.

    Attributes
    ----------
    path : the run directory.
    leaderboard : one row per model, best AUC first (``leaderboard.csv``).
    predictions : out-of-fold predictions of every citizen by every model.
    mlflow : where :func:`run` logged it in MLflow (None: not logged).
    """

    def __init__(self, data: RunData) -> None:
        self._data = data
        self.models: Mapping[str, SavedModel] = _SavedModels(data)
        self.mlflow: LoggedRun | None = None

    # ---------------------------------------------------------------- tables
    @property
    def path(self) -> Path:
        return self._data.run_dir

    @property
    def id(self) -> str:
        return str(self._data.manifest["run_id"])

    @property
    def leaderboard(self) -> pd.DataFrame:
        return self._data.leaderboard.copy()

    @property
    def predictions(self) -> pd.DataFrame:
        return self._data.predictions

    @property
    def explanations(self) -> pd.DataFrame | None:
        return self._data.explanations

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per model: every out-of-fold metric and its interval (``_low``,
        ``_high``), in leaderboard order."""
        rows = []
        for name in self._data.model_names:
            entry = self._data.metrics["models"][name]
            row: dict[str, Any] = {"model": name, "family": entry["family"],
                                   "kind": entry["kind"], "role": entry["role"],
                                   **entry["observed"]}
            for metric, (low, high) in entry["intervals"].items():
                row[f"{metric}_low"], row[f"{metric}_high"] = low, high
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def fairness(self) -> pd.DataFrame | None:
        """One row per model, outcome and attribute: disparities and the four-fifths
        verdict (None when the run had no fairness stage)."""
        if self._data.fairness is None:
            return None
        parts = [pd.DataFrame(entry["disparities"]).assign(model=name)
                 for name, entry in self._data.fairness["models"].items()
                 if entry.get("disparities")]
        if not parts:
            return pd.DataFrame()
        table = pd.concat(parts, ignore_index=True)
        return table[["model", *[c for c in table.columns if c != "model"]]]

    @property
    def groups(self) -> pd.DataFrame | None:
        """Group metrics per model, outcome, attribute and group (None without fairness)."""
        return self._data.fairness_by_group

    @property
    def data(self) -> RunData:
        """The validated artifacts themselves (manifest, study, metrics, fairness, ...)."""
        return self._data

    # ---------------------------------------------------------------- use
    def score(self, applicants: pd.DataFrame, model: str | None = None, *, reasons: int = 4,
              progress: Progress | None = None) -> pd.DataFrame:
        """Score new applicants with a final model (default: the best), as ``scorelab
        score`` does: P(default), the score in whole points, category, decision and each
        declined applicant's reasons in points (``reasons=0``: none).

        Raises
        ------
        DataError
            One line naming a missing, mistyped or unseen-category column.
        """
        _, _, chunks = score_chunks(self._data, applicants, model=model, reasons=reasons,
                                    label="applicants", progress=progress)
        return pd.concat(list(chunks), ignore_index=True)

    def letter(self, who: int | pd.DataFrame | pd.Series, model: str | None = None, *,
               final: bool = False) -> Letter:
        """The explained decision of a citizen of the run (by id: the fold model that held
        them out, or with ``final`` the final model) or of a new applicant (a one-row
        DataFrame or a Series: the final model, as :meth:`score` gives it)."""
        if isinstance(who, pd.Series):
            who = who.to_frame().T.infer_objects()
        if isinstance(who, pd.DataFrame):
            return explain_row(self._data, who, model)
        if isinstance(who, bool) or not isinstance(who, int):
            try:
                who = int(who)  # numpy integers
            except (TypeError, ValueError):
                raise ConfigError(f"explain: give a citizen id or a one-row DataFrame; got "
                                  f"{type(who).__name__}") from None
        return explain_citizen(self._data, who, model, final=final)

    def explain(self, who: int | pd.DataFrame | pd.Series, model: str | None = None, *,
                final: bool = False) -> dict[str, Any]:
        """The explanation as ``scorelab explain --json`` prints it: score, decision, the
        reasons in points (log-odds beside them), the favourable factors ranked the same
        way, and the model's whole explanation (base value + contributions = output)."""
        return self.letter(who, model, final=final).as_dict()

    def report(self, html: bool = False) -> Path | str:
        """The report's path (rendered if missing), or its HTML with ``html=True``."""
        page = self.path / "report.html"
        if not page.is_file():  # the config may leave html out of report.formats
            build_report(self.path, formats=["html"])
        return page.read_text() if html else page

    # ---------------------------------------------------------------- display
    def _summary(self) -> tuple[str, list[str]]:
        d = self._data
        pop = d.study.population
        head = (f"Run {self.id}: study '{d.study.name}', {pop.n_citizens:,} {pop.source} "
                f"citizens, {len(d.model_names)} models, {d.study.folds}-fold")
        notes = []
        if "oracle" in d.metrics:
            notes.append(f"oracle AUC {d.metrics['oracle']['auc']:.3f}")
        if d.fairness is None:
            notes.append("no fairness audit")
        return head, notes

    def __repr__(self) -> str:
        head, notes = self._summary()
        cols = [c for c in ("model", "family", "auc", "brier", "approval_rate",
                            "four_fifths_verdict") if c in self._data.leaderboard]
        board = self._data.leaderboard[cols].head(_REPR_ROWS).to_string(
            index=False, float_format=lambda v: f"{v:.3f}")
        more = len(self._data.leaderboard) - _REPR_ROWS
        lines = [head, *([", ".join(notes)] if notes else []), board]
        if more > 0:
            lines.append(f"... {more} more models (run.leaderboard)")
        lines.append(f"path: {self.path}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, notes = self._summary()
        cols = [c for c in ("model", "family", "kind", "role", "auc", "auc_low", "auc_high",
                            "brier", "ece", "approval_rate", "worst_approval_ratio",
                            "four_fifths_verdict", "age_approval_ratio", "verdict")
                if c in self._data.leaderboard]
        table = self._data.leaderboard[cols].to_html(
            index=False, float_format=lambda v: f"{v:.3f}", na_rep="-", escape=True)
        note = f"<p>{html.escape(', '.join(notes))}</p>" if notes else ""
        return (f"<div class='scorelab-run'><p><b>{html.escape(head)}</b></p>{note}{table}"
                f"<p>Report: <code>{html.escape(str(self.path / 'report.html'))}</code></p>"
                "</div>")


def load_run(path: str | Path) -> Run:
    """Open a run directory (validated on load; one clear line if it is not a run)."""
    return Run(_load_run_data(path))


def run(config: ExperimentConfig | str | Path | Mapping[str, Any],
        population: pd.DataFrame | None = None, *, runs_dir: str | Path | None = None,
        progress: Progress | None = None,
        on_stage: Callable[[str, float], None] | None = None,
        mlflow: bool | None = None) -> Run:
    """Run a study and return its run directory as a :class:`Run`.

    Parameters
    ----------
    config : an ExperimentConfig, the path of a YAML config, or a mapping (validated
        like a file).
    population : for a table study, the table itself as a DataFrame (instead of
        ``population.path``).
    runs_dir : parent folder of the run directory (default: ``output.runs_dir``).
    progress : called with (done, total) as the fold models are fitted.
    on_stage : called with (stage, seconds) as each stage of the study ends.
    mlflow : log the run to MLflow once its run directory is written (True), or not
        (False); None = ``output.mlflow.enabled``. The extra and the tracking store are
        checked before any fitting (one line each); a failure to log afterwards is one
        warning, the run directory stays complete (``scorelab log`` logs it later), and
        ``Run.mlflow`` says where it went.
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    elif isinstance(config, Mapping):
        config = config_from_dict(dict(config))
    elif not isinstance(config, ExperimentConfig):
        raise ConfigError(f"run: config must be an ExperimentConfig, a path or a mapping; got "
                          f"{type(config).__name__}")
    target = _mlflow_target(config, mlflow)  # before any fitting
    result = _run_study(config, runs_dir=Path(runs_dir) if runs_dir else None,
                        progress=progress, population=population, on_stage=on_stage)
    assert result.run_dir is not None
    done = load_run(result.run_dir)
    if target is not None:
        done.mlflow = _log_after_run(done, target)
    return done


_log = logging.getLogger(__name__)
#: What turns MLflow logging on, for the line that says the extra is missing.
_MLFLOW_SWITCH = "logging to MLflow (output.mlflow.enabled, --mlflow)"


def _mlflow_target(config: ExperimentConfig, enabled: bool | None) -> TrackingTarget | None:
    """``output.mlflow`` resolved and checked (extra installed, store reachable), or
    None when the run is not logged to MLflow."""
    section = config.output.mlflow
    if not (section.enabled if enabled is None else enabled):
        return None
    require_mlflow(_MLFLOW_SWITCH)
    target = tracking_target(section, config.name)
    check_target(target)
    return target


def _log_after_run(done: Run, target: TrackingTarget) -> LoggedRun | None:
    """Log a written run; a failure, or an interrupt (Ctrl-C stops the logging, not the
    finished run), is one warning: the run directory is complete."""
    try:
        return _log_to_mlflow(done.data, target)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the run is written
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else \
            one_line(f"{type(exc).__name__}: {exc}", 300)
        _log.warning("the run was not logged to MLflow (%s); its run directory is complete; "
                     "log it later with: scorelab log %s", why, done.path)
        return None


def log_run(run_dir: str | Path | Run, *, tracking_uri: str | None = None,
            experiment: str | None = None, models: bool | None = None) -> LoggedRun:
    """Log a run directory to MLflow, as ``scorelab log RUN_DIR`` does: a parent run for
    the study, a child run per model and each final model as an MLflow pyfunc model.

    The run's ``output.mlflow`` section gives the defaults (``tracking_uri``,
    ``experiment``, ``log_models``); the arguments override it. The parent is found
    again by the run's id, so logging a run twice adds nothing (and completes a logging
    that broke off). The run directory is only read.

    Raises
    ------
    ConfigError
        MLflow is not installed (the line says how to install it).
    OutputError
        The tracking store cannot be reached, or logging failed (run it again).
    """
    data = run_dir.data if isinstance(run_dir, Run) else _load_run_data(run_dir)
    require_mlflow("scorelab log")
    section = MlflowTracking.model_validate((data.config.get("output") or {}).get("mlflow")
                                            or {})
    if models is not None:
        section = section.model_copy(update={"log_models": models})
    target = tracking_target(section, data.study.name, tracking_uri=tracking_uri,
                             experiment=experiment)
    check_target(target, "scorelab log", fix="or give another --tracking-uri")
    try:
        return _log_to_mlflow(data, target)
    except ScorelabError:
        raise
    except Exception as exc:
        raise OutputError(f"scorelab log: logging to MLflow failed "
                          f"({one_line(f'{type(exc).__name__}: {exc}', 300)}); the run "
                          "directory is unchanged; run it again to complete the logging"
                          ) from exc


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the experiment config, every field with its description."""
    return ExperimentConfig.model_json_schema()


def benchmark(config: str | Path | Any, *, jobs: int = 1, runs_dir: str | Path | None = None,
              on_cell: Callable[[Any, int, int], None] | None = None) -> BenchmarkResult:
    """Run a benchmark (``scorelab benchmark BENCH.yaml``): every dataset x seed an
    ordinary run directory under ``<runs_dir>/benchmark-<name>/cells/``, then the long
    results table, the statistics across datasets and the benchmark's report.

    Rerun with the same config, it resumes: finished cells (found by their manifests)
    are never refitted. A failing cell is reported (``on_cell`` and
    ``BenchmarkResult.failed``, one line each) and does not stop the others. ``jobs``
    runs that many cells at once (capped at the machine's cores).

    Raises
    ------
    ConfigError, DataError
        Before any cell runs: one line naming the key, or the dataset and its column or
        missing extra.
    """
    return _run_benchmark(config, jobs=jobs, runs_dir=runs_dir, on_cell=on_cell)


def save_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a reader never sees half a file)."""
    write_atomically({Path(path): text.encode()}, force=True)
    return Path(path)


def serve(runs_dir: str | Path = "runs", *, host: str = "127.0.0.1", port: int = 8000,
          say: Callable[[str], None] = print) -> None:
    """Serve the auditor's workbench over a runs folder until Ctrl-C, as ``scorelab
    serve`` does: a local, read-only web app whose what-ifs and letters go through the
    same scorer as :meth:`Run.score` and :meth:`Run.explain`. It binds to loopback
    unless ``host`` says otherwise (then ``say`` gets a warning first).

    Raises
    ------
    DataError
        The runs folder does not exist.
    ConfigError
        The ``serve`` extra (Starlette, uvicorn) is not installed.
    OutputError
        The port cannot be bound.
    """
    _serve(runs_dir, host=host, port=port, say=say)
