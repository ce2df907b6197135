"""The one reader of run directories: :func:`load_run` validates on load.

Everything after a study (the report, ``explain``, ``score``, ``compare``) reads a run
through here. A directory that is unfinished, of another ``format_version``, missing a
required artifact, or with a file that fails its contract gives one
:class:`~scorelab.exceptions.DataError` line naming the file (and the field or column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ValidationError

from scorelab.config import config_from_dict
from scorelab.core.messages import excerpt
from scorelab.exceptions import ConfigError, DataError
from scorelab.runs.contract import (
    FORMAT_VERSION,
    JSON_ARTIFACTS,
    LEADERBOARD,
    PARQUET_ARTIFACTS,
    REQUIRED_ARTIFACTS,
    ModelCard,
    ModelManifest,
    StudyInfo,
)
from scorelab.runs.writer import INCOMPLETE_PREFIX

__all__ = ["RunData", "load_run", "read_json_artifact"]

M = TypeVar("M", bound=BaseModel)
PARQUET_MAGIC = b"PAR1"
#: libyaml's safe loader when PyYAML has it: the resolved config is read on every load.
_FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Leaderboard columns that hold numbers (when present; empty cells are NaN).
LEADERBOARD_NUMBERS = ("auc", "auc_low", "auc_high", "gini", "ks", "brier", "log_loss", "ece",
                       "h_measure", "approval_rate", "default_rate_approved", "auc_true",
                       "oracle_ratio", "p_vs_best", "p_vs_best_holm", "mean_rank",
                       "worst_approval_ratio", "worst_equalized_odds_difference", "age_gap",
                       "age_approval_ratio", "age_score_gap", "matched_approval_rate",
                       "matched_default_rate_approved", "expected_cost", "expected_cost_low",
                       "expected_cost_high", "score_psi_worst",
                       "worst_approval_ratio_matched")


@dataclass
class RunData:
    """A validated run directory: what a report, a letter or a scorer reads."""

    run_dir: Path
    manifest: dict[str, Any]
    study: StudyInfo
    config: dict[str, Any]
    metrics: dict[str, Any]
    leaderboard: pd.DataFrame
    predictions: pd.DataFrame
    data_card: dict[str, Any]
    explanations: pd.DataFrame | None = None
    importance: dict[str, Any] | None = None
    fairness: dict[str, Any] | None = None
    fairness_by_group: pd.DataFrame | None = None
    validity: dict[str, Any] | None = None
    tuning: dict[str, Any] | None = None
    adverse_action: dict[str, Any] | None = None
    age_rule: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def model_names(self) -> list[str]:
        """Models in leaderboard order (best AUC first)."""
        return [str(m) for m in self.leaderboard["model"]]

    def adverse_reasons(self) -> pd.DataFrame | None:
        """The declined citizens' reasons (adverse_reasons.parquet; None if absent)."""
        path = self.run_dir / "adverse_reasons.parquet"
        return _read_parquet(path) if path.is_file() else None

    def recourse(self) -> pd.DataFrame | None:
        """The declined citizens' counterfactuals (recourse.parquet; None if absent)."""
        path = self.run_dir / "recourse.parquet"
        return _read_parquet(path) if path.is_file() else None

    def population(self) -> pd.DataFrame:
        """The study's citizens (read on demand: the largest artifact)."""
        return _read_parquet(self.run_dir / "population.parquet")

    def resolve_model(self, wanted: str | None) -> str:
        """A model by its name, or by its family when that family has one model; the
        best model (first on the leaderboard) when ``wanted`` is None."""
        names = self.model_names
        if wanted is None:
            return names[0]
        if wanted in names:
            return wanted
        families = {m.name: m.family for m in self.study.models}
        of_family = [n for n in names if families.get(n) == wanted]
        if len(of_family) == 1:
            return of_family[0]
        if of_family:
            raise DataError(f"family '{wanted}' has several models ({', '.join(of_family)}); "
                            "give one of their names with --model")
        raise DataError(f"no model or family '{wanted}' in this run (models: "
                        f"{', '.join(names)}; families: "
                        f"{', '.join(sorted(set(families.values())))})")

    def model_tables(self, name: str) -> dict[str, pd.DataFrame]:
        """The deliverable tables saved beside model ``name`` (file name -> table), as
        its ``model.json`` lists them."""
        folder = self.run_dir / "models" / name
        out: dict[str, pd.DataFrame] = {}
        if not (folder / "model.json").is_file():  # output.save_models: none
            return out
        for file_name in self.model_manifest(name).deliverables:
            if (folder / file_name).is_file():
                try:
                    out[file_name] = pd.read_csv(folder / file_name)
                except Exception as exc:
                    raise _fail(folder / file_name,
                                f"not a readable CSV file ({type(exc).__name__})") from None
        return out

    def model_card(self, name: str) -> ModelCard:
        """The model card of saved model ``name``, validated like every artifact."""
        self.model_manifest(name)  # one line if the run saved no such model
        return read_json_artifact(self.run_dir / "models" / name / "card.json", ModelCard)

    def model_manifest(self, name: str) -> ModelManifest:
        """The manifest of saved model ``name`` (one line if the run saved none)."""
        path = self.run_dir / "models" / name / "model.json"
        if not path.is_file():
            saved = sorted(p.parent.name for p in (self.run_dir / "models").glob("*/model.json"))
            setting = self.config["output"]["save_models"]
            raise DataError(f"run directory '{self.run_dir}': no saved model '{name}' "
                            f"(models/{name}/model.json is missing; saved: "
                            f"{', '.join(saved) or 'none'}; output.save_models: {setting})")
        return read_json_artifact(path, ModelManifest)


def _fail(path: Path, what: str) -> DataError:
    """One line naming the run directory and the file inside it (models/x/model.json)."""
    root = next((p for p in path.parents if (p / "manifest.json").is_file()), path.parent)
    return DataError(f"run directory '{root}': {path.relative_to(root).as_posix()}: {what}")


def _raw_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"not readable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _fail(path, "must hold a JSON object")
    return value


def read_json_artifact(path: Path, model: type[M]) -> M:
    """A JSON artifact validated against its contract model (one line on failure)."""
    try:
        return model.model_validate(_raw_json(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise _fail(path, f"field '{where}': {first['msg']} "
                          f"(the file does not match run format {FORMAT_VERSION})") from None


def _read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise _fail(path, f"not a readable Parquet file ({type(exc).__name__})") from None


def _check_parquet(path: Path) -> None:
    """The file's columns and dtype kinds against the contract (schema only, no data)."""
    required, optional = PARQUET_ARTIFACTS[path.name]
    try:
        with path.open("rb") as handle:
            if handle.read(4) != PARQUET_MAGIC:  # the footer alone can survive a garbling
                raise _fail(path, "not a readable Parquet file (its first bytes are not "
                                  "PAR1: damaged)")
        schema = pq.read_schema(path)
    except DataError:
        raise
    except Exception as exc:
        raise _fail(path, f"not a readable Parquet file ({type(exc).__name__})") from None
    names = set(schema.names)
    missing = [c for c in required if c not in names]
    if missing:
        raise _fail(path, f"lacks column(s) {', '.join(missing)}")
    for column, kind in {**required, **optional}.items():
        if column not in names:
            continue
        arrow = schema.field(column).type
        numeric = kind in "if"
        try:
            actual = np.dtype(arrow.to_pandas_dtype()).kind
        except (NotImplementedError, TypeError):
            actual = "O"
        if numeric and actual not in ("i", "u", "f", "b"):
            raise _fail(path, f"column '{column}' must be numeric; got {arrow}")
        if kind == "i" and actual == "f":
            raise _fail(path, f"column '{column}' must be integer; got {arrow}")
        if kind == "b" and not pa.types.is_boolean(arrow):
            raise _fail(path, f"column '{column}' must be boolean; got {arrow}")
        if kind == "O" and not (pa.types.is_string(arrow) or pa.types.is_large_string(arrow)
                                or pa.types.is_dictionary(arrow)
                                or getattr(pa.types, "is_string_view", lambda _: False)(arrow)):
            raise _fail(path, f"column '{column}' must be text; got {arrow}")


def load_run(run_dir: str | Path, *, unpublished: bool = False) -> RunData:
    """Read and validate a run directory.

    ``unpublished`` lets the study itself render the report of the run it is writing,
    before the folder is renamed into place; every other reader refuses such a folder.

    Raises
    ------
    DataError
        One line naming the directory and the file (and field or column) that fails.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise DataError(f"run directory '{run_dir}' does not exist (give the folder a "
                        f"'scorelab run' printed on its last line)")
    if run_dir.name.startswith(INCOMPLETE_PREFIX) and not unpublished:
        raise DataError(f"run directory '{run_dir}' is unfinished (its run crashed, was "
                        "interrupted or is still running); no reader accepts it")
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise DataError(f"run directory '{run_dir}' has no manifest.json (was the run "
                        "interrupted, or is this not a run directory?)")
    version = _raw_json(manifest_path).get("format_version")
    if version != FORMAT_VERSION:
        raise _fail(manifest_path, f"format_version {version!r} is not supported (this "
                                   f"scorelab reads format {FORMAT_VERSION}; re-run the "
                                   "study with this version)")
    missing = [name for name in REQUIRED_ARTIFACTS if not (run_dir / name).is_file()]
    if missing:
        raise DataError(f"run directory '{run_dir}' is missing required artifact(s): "
                        f"{', '.join(missing)}")
    json_parts = {name: read_json_artifact(run_dir / name, model).model_dump(mode="json",
                                                                            exclude_unset=True)
                  for name, model in JSON_ARTIFACTS.items() if (run_dir / name).is_file()}
    for name in PARQUET_ARTIFACTS:
        if (run_dir / name).is_file():
            _check_parquet(run_dir / name)
    leaderboard = _read_leaderboard(run_dir / "leaderboard.csv")
    run = RunData(
        run_dir=run_dir,
        manifest=json_parts["manifest.json"],
        study=StudyInfo.model_validate(json_parts["study.json"]),
        config=_read_config(run_dir / "config.resolved.yaml"),
        metrics=json_parts["metrics.json"],
        leaderboard=leaderboard,
        predictions=_read_parquet(run_dir / "predictions.parquet"),
        data_card=_raw_json(run_dir / "data_card.json"),
        importance=json_parts.get("importance.json"),
        fairness=json_parts.get("fairness.json"),
        validity=json_parts.get("validity.json"),
        tuning=json_parts.get("tuning.json"),
        adverse_action=json_parts.get("adverse_action.json"),
        age_rule=json_parts.get("age_rule.json"),
    )
    if (run_dir / "explanations.parquet").is_file():
        run.explanations = _read_parquet(run_dir / "explanations.parquet")
    if (run_dir / "fairness_by_group.parquet").is_file():
        run.fairness_by_group = _read_parquet(run_dir / "fairness_by_group.parquet")
    _check_listed_files(run_dir, run.manifest["artifacts"])
    for model_json in sorted((run_dir / "models").glob("*/model.json")):
        _check_model_files(model_json, read_json_artifact(model_json, ModelManifest),
                           run.study)
    _check_same_models(run)
    _check_decisions(run)
    _check_predictions(run)
    return run


def _check_same_models(run: RunData) -> None:
    """Every artifact names the same models. The list most of them agree on is the run's;
    the first file that differs is named (a model missing from the predictions would
    otherwise be reported as a blank row, or crash a reader)."""
    d = run.run_dir
    lists = {d / "manifest.json": ("field 'models'", run.manifest["models"]),
             d / "study.json": ("field 'models'", [m.name for m in run.study.models]),
             d / "metrics.json": ("field 'models'", list(run.metrics["models"])),
             d / "leaderboard.csv": ("column 'model'", list(run.leaderboard["model"])),
             d / "predictions.parquet": ("column 'model'",
                                         list(pd.unique(run.predictions["model"].astype(str))))}
    sets = [frozenset(names) for _, names in lists.values()]
    agreed = max(sets, key=sets.count)
    for path, (where, names) in lists.items():
        if frozenset(names) != agreed:
            missing = sorted(agreed - set(names))
            extra = sorted(set(names) - agreed)
            what = "; ".join(part for part in (
                f"no {'rows' if path.suffix == '.parquet' else 'entry'} of model(s) "
                f"{', '.join(missing)}" if missing else "",
                f"unknown model(s) {', '.join(extra)}" if extra else "") if part)
            raise _fail(path, f"{where}: {what} (the run's other files have: "
                              f"{', '.join(sorted(agreed))})")


def _check_decisions(run: RunData) -> None:
    """Each model's cut-off is there: letters and scores judge by it."""
    for name, entry in run.metrics["models"].items():
        cutoff = entry["decision"].get("cutoff_score")
        if not isinstance(cutoff, int | float) or cutoff != cutoff:
            raise _fail(run.run_dir / "metrics.json", f"field 'models.{name}.decision."
                                                      "cutoff_score' is missing or not a number")


def _check_predictions(run: RunData) -> None:
    """Probabilities, folds and citizens that a reader can trust: each model scores each
    citizen of the population once per repeat, out of a fold the study had."""
    pred, path = run.predictions, run.run_dir / "predictions.parquet"
    p = pred["p_default"].to_numpy(dtype=float)
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        raise _fail(path, f"column 'p_default' must hold probabilities in [0, 1]; "
                          f"{int(bad.sum())} row(s) do not (e.g. {p[bad][0]!r})")
    for column, count in (("fold", run.study.folds), ("repeat", run.study.repeats)):
        values = pred[column].to_numpy()
        outside = (values < 0) | (values >= count)
        if outside.any():
            raise _fail(path, f"column '{column}' must be 0-{count - 1} (study.json: "
                              f"{count} {column}s); {int(outside.sum())} row(s) hold e.g. "
                              f"{int(values[outside][0])}")
    ids = _read_parquet(run.run_dir / "population.parquet", ["citizen_id"])["citizen_id"]
    for (name, repeat), group in pred.groupby(["model", "repeat"], observed=True, sort=False):
        citizens = group["citizen_id"]
        if len(citizens) != len(ids) or citizens.duplicated().any() \
                or not citizens.isin(ids).all():
            raise _fail(path, f"model '{name}' (repeat {repeat}) does not score each citizen "
                              f"of population.parquet exactly once ({len(citizens):,} rows "
                              f"for {len(ids):,} citizens)")


def _inside(run_dir: Path, relative: str) -> bool:
    parts = Path(relative).parts
    return not Path(relative).is_absolute() and ".." not in parts


def _check_listed_files(run_dir: Path, listed: list[str]) -> None:
    """Every file the manifest lists is there (a partial copy is named, not half-read)."""
    for name in listed:
        if name.startswith("report."):
            continue  # the report is rendered from the run, any time
        if not _inside(run_dir, name):
            raise _fail(run_dir / "manifest.json", f"artifact '{name}' is outside the run")
        if not (run_dir / name).is_file():
            raise DataError(f"run directory '{run_dir}' is missing {name}, which its "
                            "manifest lists (an incomplete copy?)")


def _check_model_files(path: Path, manifest: ModelManifest, study: StudyInfo) -> None:
    """Saved files inside the run, and fold models for every fold or none."""
    files = [f for f in (manifest.final, *manifest.folds.values(), *manifest.boosters,
                         *manifest.deliverables) if f]
    for name in files:
        if not _inside(path.parent, name):
            raise _fail(path, f"file '{name}' is outside the run directory")
    expected = {f"r{r}f{k}" for r in range(study.repeats) for k in range(study.folds)}
    if manifest.folds and set(manifest.folds) != expected:
        missing = sorted(expected - set(manifest.folds)) or sorted(set(manifest.folds))
        raise _fail(path, f"field 'folds' does not match the study's {study.folds} folds x "
                          f"{study.repeats} repeat(s) (check: {', '.join(missing)})")


def _read_leaderboard(path: Path) -> pd.DataFrame:
    try:
        board = pd.read_csv(path)
    except Exception as exc:
        raise _fail(path, f"not a readable CSV file ({type(exc).__name__})") from None
    missing = [c for c in LEADERBOARD if c not in board.columns]
    if missing:
        raise _fail(path, f"lacks column(s) {', '.join(missing)}")
    for column in LEADERBOARD_NUMBERS:
        if column in board and not pd.api.types.is_numeric_dtype(board[column]):
            raise _fail(path, f"column '{column}' must be numeric; got e.g. "
                              f"{excerpt(board[column].dropna().iloc[0])!r}")
    board["model"] = board["model"].astype(str)
    return board


def _read_config(path: Path) -> dict[str, Any]:
    """The resolved config, validated like any config (one line naming the file)."""
    try:
        raw = yaml.load(path.read_text(), Loader=_FAST_SAFE_LOADER)  # noqa: S506 (safe)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(path, f"not readable YAML ({first})") from None
    if not isinstance(raw, dict):
        raise _fail(path, "must hold a mapping")
    try:
        return config_from_dict(raw, source=str(path)).model_dump(mode="json")
    except ConfigError as exc:
        raise _fail(path, str(exc)) from None
