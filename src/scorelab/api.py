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
from scorelab.config import (
    ExperimentConfig,
    apply_overrides,
    config_from_dict,
    dump_config,
    load_config,
)
from scorelab.data.card import render_data_card_markdown
from scorelab.data.datasets import list_datasets
from scorelab.data.io import write_atomically
from scorelab.engine import Progress
from scorelab.exceptions import ConfigError, UnknownModel
from scorelab.lda import lda
from scorelab.lda.artifacts import guarantee_sentence
from scorelab.report import build_report
from scorelab.report.compare import compare_html, compare_markdown, compare_runs, compare_table
from scorelab.report.pdf import print_pdf
from scorelab.runs.contract import ModelManifest
from scorelab.runs.housekeeping import list_runs, remove_stale
from scorelab.runs.interrupts import Interrupted, stop_on_signals
from scorelab.runs.reader import RunData
from scorelab.runs.reader import load_run as _load_run_data
from scorelab.study.population import check_study, generate_to_file
from scorelab.study.runner import run as _run_study
from scorelab.study.scenarios import SCENARIO_DIR
from scorelab.study.scenarios import validate as validate_truth

__all__ = ["SCENARIO_DIR", "Interrupted", "Run", "SavedModel", "apply_overrides",
           "build_report", "check_stability", "check_study", "compare_html",
           "compare_markdown", "compare_runs", "compare_table", "config_schema",
           "dump_config", "explain_applicant", "explain_citizen", "generate_to_file",
           "guarantee_sentence", "lda", "list_datasets", "list_runs", "load_config",
           "load_run", "print_pdf", "remove_stale", "render_data_card_markdown", "run",
           "save_text", "score_applicants", "stop_on_signals", "validate_truth"]

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
    """

    def __init__(self, data: RunData) -> None:
        self._data = data
        self.models: Mapping[str, SavedModel] = _SavedModels(data)

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

    def letter(self, who: int | pd.DataFrame | pd.Series, model: str | None = None) -> Letter:
        """The explained decision of a citizen of the run (by id) or of a new applicant
        (a one-row DataFrame or a Series)."""
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
        return explain_citizen(self._data, who, model)

    def explain(self, who: int | pd.DataFrame | pd.Series, model: str | None = None
                ) -> dict[str, Any]:
        """The explanation as ``scorelab explain --json`` prints it: score, decision, the
        reasons that raised and lowered the risk, base value and output (log-odds)."""
        return self.letter(who, model).as_dict()

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
        on_stage: Callable[[str, float], None] | None = None) -> Run:
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
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    elif isinstance(config, Mapping):
        config = config_from_dict(dict(config))
    elif not isinstance(config, ExperimentConfig):
        raise ConfigError(f"run: config must be an ExperimentConfig, a path or a mapping; got "
                          f"{type(config).__name__}")
    result = _run_study(config, runs_dir=Path(runs_dir) if runs_dir else None,
                        progress=progress, population=population, on_stage=on_stage)
    assert result.run_dir is not None
    return load_run(result.run_dir)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the experiment config, every field with its description."""
    return ExperimentConfig.model_json_schema()


def save_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a reader never sees half a file)."""
    write_atomically({Path(path): text.encode()}, force=True)
    return Path(path)
