"""A final model as an MLflow ``pyfunc`` model, loaded without pickle.

MLflow's default for a custom Python model pickles the model object (cloudpickle), and
loading it runs whatever the pickle says. scorelab logs its models through MLflow's
other workflow instead: a *loader module* (this one, named in the model's ``MLmodel``
file) and a *data folder*. The data folder is a small run directory holding one final
model: the run's required artifacts (manifest, study, resolved config, metrics,
leaderboard, predictions, population, data card), its JSON artifacts, and the model's
own folder (``model.json``, the skops file and its LightGBM text boosters, the card and
the deliverable tables; no fold models). :func:`_load_pyfunc` opens it with
:func:`scorelab.runs.load_run` (validated like any run directory) and the skops file is
loaded by scorelab's scorer, which refuses any type outside scorelab's trusted list.

``predict`` is scorelab's own scorer (:func:`score_rows`): the same P(default), score,
category, decision and reasons as ``scorelab score`` and :meth:`scorelab.api.Run.score`
on the same rows. The model's signature comes from ``model.json`` (one column per input,
typed), so MLflow checks a table before it reaches the scorer; the parameter
``reasons`` (default 4) sets how many reasons each row gets.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scorelab.applicants.score import ID_COLUMNS, score_chunks
from scorelab.core.jsonable import dumps
from scorelab.exceptions import DataError
from scorelab.runs import RunData, load_run
from scorelab.runs.contract import JSON_ARTIFACTS, REQUIRED_ARTIFACTS, InputColumn

__all__ = ["BUNDLE_NAME", "LOADER_MODULE", "REASONS", "ScorelabPyfunc", "bundle_run",
           "input_example", "score_rows", "signature"]

#: The module MLflow imports to load a logged model (its ``_load_pyfunc``).
LOADER_MODULE = __name__
#: The data folder's name inside the MLflow model (``data/run``).
BUNDLE_NAME = "run"
#: Reasons per row by default (Regulation B's most: four), as ``scorelab score`` gives.
REASONS = 4
#: Rows of the run's population saved as the model's input example.
EXAMPLE_ROWS = 5


def score_rows(run: RunData, frame: pd.DataFrame, model: str, reasons: int = REASONS
               ) -> pd.DataFrame:
    """Score ``frame`` with the run's final model ``model`` through scorelab's scorer
    (the one place this package calls it): one row per applicant, as
    :meth:`scorelab.api.Run.score` returns them."""
    _, _, chunks = score_chunks(run, frame, model=model, reasons=reasons, label="applicants")
    return pd.concat(list(chunks), ignore_index=True)


class ScorelabPyfunc:
    """What ``mlflow.pyfunc.load_model`` wraps: a run's final model and its scorer."""

    def __init__(self, run: RunData, model: str) -> None:
        self.run = run
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """P(default), score, category, decision and reasons of each row of
        ``model_input`` (a DataFrame with the model's input columns)."""
        frame = model_input if isinstance(model_input, pd.DataFrame) \
            else pd.DataFrame(model_input)
        reasons = int((params or {}).get("reasons", REASONS))
        return score_rows(self.run, frame, self.model, reasons)


def _load_pyfunc(data_path: str, model_config: Any = None) -> ScorelabPyfunc:
    """MLflow's entry point: the bundle at ``data_path`` as a scorer (no pickle)."""
    run = load_run(data_path)
    saved = sorted(p.parent.name for p in (run.run_dir / "models").glob("*/model.json"))
    if len(saved) != 1:
        raise DataError(f"MLflow model data '{data_path}': expected one saved model; found "
                        f"{len(saved)} ({', '.join(saved) or 'none'})")
    return ScorelabPyfunc(run, saved[0])


# --------------------------------------------------------------------------- the bundle


def bundle_run(run: RunData, model: str, dest: Path) -> Path:
    """Write the scorer's run directory for ``model`` to ``dest`` (a new folder) and
    check that it loads; returns ``dest``.

    The model's ``model.json`` lists no fold models (they are left out) and the
    manifest lists the files the bundle holds, so the bundle passes every check of
    :func:`scorelab.runs.load_run`.
    """
    manifest = run.model_manifest(model)
    if manifest.final is None:
        raise DataError(f"run directory '{run.run_dir}': model '{model}' has no final model "
                        "(output.save_models was 'folds' or 'none')")
    source = run.run_dir
    folder = f"models/{model}"
    final_stem = Path(manifest.final).name.split(".")[0]
    boosters = [b for b in manifest.boosters
                if Path(b).parent.as_posix() == folder
                and Path(b).name.startswith(final_stem + ".")]
    files = [*REQUIRED_ARTIFACTS, *(n for n in JSON_ARTIFACTS if n not in REQUIRED_ARTIFACTS),
             manifest.final, *boosters, f"{folder}/card.json", f"{folder}/card.md",
             *(f"{folder}/{name}" for name in manifest.deliverables)]
    files = [f for f in dict.fromkeys(files) if (source / f).is_file() and f != "manifest.json"]
    dest.mkdir(parents=True)
    for name in files:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, dest / name)
    own = manifest.model_copy(update={"folds": {}, "boosters": boosters})
    (dest / folder / "model.json").write_text(dumps(own.model_dump(mode="json")))
    listed = sorted([*files, f"{folder}/model.json", "manifest.json"])
    (dest / "manifest.json").write_text(dumps({**run.manifest, "artifacts": listed}))
    _load_pyfunc(str(dest))  # what MLflow will load: checked now, not on a server
    return dest


# --------------------------------------------------------------------------- signature


def _column_type(spec: InputColumn) -> str:
    """The MLflow type of one input (a column that may be empty is a double)."""
    if spec.dtype == "category":
        known = [v for v in spec.categories or [] if v is not None]
        if known and all(isinstance(v, bool) for v in known):
            return "boolean"
        if known and all(isinstance(v, int) and not isinstance(v, bool) for v in known):
            return "double" if spec.nullable else "long"
        if known and all(isinstance(v, int | float) and not isinstance(v, bool)
                         for v in known):
            return "double"
        return "string"
    if spec.dtype == "integer":
        return "double" if spec.nullable else "long"
    return {"numeric": "double", "boolean": "boolean"}[spec.dtype]


def _id_column(run: RunData) -> tuple[str, str] | None:
    """The id column ``scorelab score`` keeps beside the scores, if the run's citizens
    have one: (name, MLflow type)."""
    schema = pq.read_schema(run.run_dir / "population.parquet")
    for name in ID_COLUMNS:
        if name in schema.names:
            kind = schema.field(name).type
            return name, "long" if pa.types.is_integer(kind) else "string"
    return None


def signature(run: RunData, model: str) -> Any:
    """The model's MLflow signature: its inputs from ``model.json`` (each required and
    typed; the id column, when the run's citizens have one, optional) and the
    ``reasons`` parameter."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    columns = [ColSpec(_column_type(c), c.name) for c in run.model_manifest(model).inputs]
    id_column = _id_column(run)
    if id_column is not None and id_column[0] not in {c.name for c in columns}:
        columns.insert(0, ColSpec(id_column[1], id_column[0], required=False))
    return ModelSignature(inputs=Schema(columns),
                          params=ParamSchema([ParamSpec("reasons", "long", REASONS)]))


def input_example(run: RunData, model: str) -> pd.DataFrame:
    """The first rows of the run's citizens, as the model takes them (its inputs and the
    id column), in the types of the signature."""
    inputs = run.model_manifest(model).inputs
    id_column = _id_column(run)
    names = ([id_column[0]] if id_column else []) + [c.name for c in inputs
                                                      if not id_column or c.name != id_column[0]]
    frame = pd.read_parquet(run.run_dir / "population.parquet", columns=names)
    frame = frame.head(EXAMPLE_ROWS).reset_index(drop=True)
    for spec in inputs:
        column = frame[spec.name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if _column_type(spec) == "double":
            column = column.astype("float64")
        elif _column_type(spec) == "string":
            column = column.astype(object).where(column.notna(), None).map(
                lambda v: v if v is None else str(v))
        frame[spec.name] = column
    # object column labels: MLflow compares them with a range, which pandas 3 deprecates
    # for its text dtype (a warning at every model logged)
    frame.columns = pd.Index(list(frame.columns), dtype=object)
    return frame
