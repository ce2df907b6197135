"""``scorelab score``: new applicants scored by a run's saved final model, with reasons.

The table is checked against the model's input signature (``models/<name>/model.json``)
before anything is scored or written: a missing column, a wrong type or a category the
model never saw is one line naming the column and what is valid; extra columns are
ignored and listed. Scoring runs in chunks (bounded memory) and the output file appears
only when complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.base import BaseEstimator

from scorelab.exceptions import DataError, OutputError
from scorelab.explain.explainers import EXACT_KINDS, background_sample, explain
from scorelab.models.persist import load_model
from scorelab.runs.contract import InputColumn, ModelManifest
from scorelab.runs.reader import RunData, load_run
from scorelab.scale import ScoreScale

__all__ = ["ScoreSummary", "check_applicants", "load_final_model", "read_table",
           "score_applicants", "score_frame"]

TABLE_SUFFIXES = (".csv", ".parquet")
BACKGROUND_SIZE = 200
Progress = Callable[[int, int], None]


@dataclass
class ScoreSummary:
    """What ``score`` did: rows scored, the output file, what was ignored or left out."""

    model: str
    rows: int
    out: Path
    ignored_columns: list[str] = field(default_factory=list)
    reasons: str = "exact"
    approved: int = 0


def scale_of(run: RunData) -> ScoreScale:
    """The run's score scale, as study.json records it."""
    s = run.study.scale
    return ScoreScale(pdo=s.pdo, base_score=s.base_score, base_odds=s.base_odds, low=s.low,
                      high=s.high, bands=tuple((b, label) for b, label in s.bands),
                      name=s.name)


def load_final_model(run: RunData, name: str) -> tuple[ModelManifest, BaseEstimator]:
    """The saved final model ``name`` and its manifest (one line if it was not saved)."""
    manifest = run.model_manifest(name)
    if manifest.final is None:
        raise DataError(f"run directory '{run.run_dir}': model '{name}' has no final model "
                        "(output.save_models was 'folds'); re-run with save_models: both")
    return manifest, load_model(run.run_dir / manifest.final)


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV or Parquet table (one line naming the file when it cannot be read)."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"table '{path}': unknown file type '{path.suffix}' (valid: "
                        f"{', '.join(TABLE_SUFFIXES)})")
    if not path.is_file():
        raise DataError(f"table '{path}' does not exist")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path, columns=columns)
        return pd.read_csv(path, usecols=columns, low_memory=False)
    except (ValueError, OSError, pa.ArrowException, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"table '{path}' is not a readable table ({first})") from None


def check_applicants(frame: pd.DataFrame, inputs: list[InputColumn], label: str
                     ) -> pd.DataFrame:
    """The model's input columns of ``frame``, typed as in training.

    Raises
    ------
    DataError
        One line naming the first column that is missing, mistyped or holds a category
        the model never saw, and what would be valid.
    """
    names = [c.name for c in inputs]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(f"{label}: missing column(s) {', '.join(missing)} (the model's "
                        f"inputs: {', '.join(names)})")
    out = {}
    for spec in inputs:
        col = frame[spec.name]
        if spec.dtype in ("numeric", "integer", "boolean"):
            values = col if pd.api.types.is_numeric_dtype(col) else \
                pd.to_numeric(col, errors="coerce")
            if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
                raise DataError(f"{label}: column '{spec.name}' must be {spec.dtype}; got "
                                f"{col.dtype}")
            bad = values.isna() & col.notna()
            if bad.any():
                first = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"{label}: column '{spec.name}' must be {spec.dtype}; row "
                                f"{first + 1} holds {col.iloc[first]!r}")
            out[spec.name] = values.astype(float) if spec.dtype == "numeric" else values
        else:
            known = spec.categories or []
            text = col.astype("string")
            unseen = sorted(set(text.dropna()) - set(known))
            if unseen:
                raise DataError(f"{label}: column '{spec.name}' holds value(s) "
                                f"{', '.join(map(repr, unseen[:5]))} not seen in training "
                                f"(valid: {', '.join(known)})")
            out[spec.name] = pd.Categorical(text.to_numpy(dtype=object, na_value=None),
                                            categories=known)
    return pd.DataFrame(out, index=frame.index)


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def score_frame(model: BaseEstimator, manifest: ModelManifest, X: pd.DataFrame,
                scale: ScoreScale, background: pd.DataFrame | None, k: int,
                max_evals: int = 200, seed: int = 0) -> pd.DataFrame:
    """P(default), score, category, decision and the top-``k`` adverse-action reasons."""
    p = model.predict_proba(X)[:, 1]
    points = scale.points(p)
    out = pd.DataFrame({"model": manifest.name, "p_default": p, "score": points,
                        "category": scale.category(points),
                        "approved": points >= manifest.cutoff_score}, index=X.index)
    if k > 0 and background is not None:
        e = explain(model, X, background, max_evals=max_evals, seed=seed)
        values = e.values
        order = np.argsort(-values, axis=1, kind="stable")[:, :k]
        columns = np.asarray(e.columns, dtype=object)
        sources = {c.name: c.source for c in manifest.inputs}
        rows = np.arange(len(X))[:, None]
        top = values[rows, order]
        for j in range(min(k, values.shape[1])):
            lowered = top[:, j] > 0  # raised the risk = lowered the score
            feature = np.where(lowered, columns[order[:, j]], None)
            out[f"reason_{j + 1}"] = feature
            out[f"reason_{j + 1}_source"] = [sources.get(f) if f else None for f in feature]
            out[f"reason_{j + 1}_points"] = np.where(lowered, -top[:, j] * scale.factor,
                                                     np.nan)
    return out


def score_applicants(run_dir: str | Path, table: str | Path, out: str | Path, *,
                     model: str | None = None, reasons: int = 4, sampled_reasons: bool = False,
                     chunk_size: int = 100_000, force: bool = False,
                     progress: Progress | None = None) -> ScoreSummary:
    """Score every row of ``table`` with the run's final model; write ``out`` atomically.

    ``model`` defaults to the run's best model. Reasons come from the exact explainer of
    the model's family; a family without one (the MLP, Yim-Mitchell) gets sampled
    reasons only with ``sampled_reasons`` (slow: a budgeted explainer per applicant).
    """
    run = load_run(run_dir)
    table, out = Path(table), Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"--out '{out}': unknown file type '{out.suffix}' (valid: "
                        f"{', '.join(TABLE_SUFFIXES)})")
    if out.exists() and not force:
        raise OutputError(f"--out '{out}' exists; give another path or --force to replace it")
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
        raise OutputError(f"--out '{out}': folder '{out.parent}' is missing or not writable")
    if reasons < 0:
        raise DataError(f"--reasons must be 0 or more; got {reasons}")
    name = model or run.model_names[0]
    if name not in run.model_names:
        raise DataError(f"no model '{name}' in this run (models: {', '.join(run.model_names)})")
    manifest, fitted = load_final_model(run, name)
    frame = read_table(table)
    ignored = [str(c) for c in frame.columns if c not in {i.name for i in manifest.inputs}]
    X = check_applicants(frame, manifest.inputs, f"table '{table}'")  # before any work
    if len(X) == 0:
        raise DataError(f"table '{table}' has no rows to score")
    kind = "exact" if manifest.explainer in EXACT_KINDS else "sampled"
    background = None
    if reasons > 0 and (kind == "exact" or sampled_reasons):
        population = check_applicants(run.population(), manifest.inputs, "population")
        background = background_sample(population, BACKGROUND_SIZE, seed=run.manifest["seed"])
    elif reasons > 0:
        kind = (f"none: '{name}' has no exact explainer ({manifest.explainer}); give "
                "--sampled-reasons for budgeted sampled reasons")
    keep = [c for c in ("citizen_id", "applicant_id", "id") if c in frame.columns][:1]
    scale = scale_of(run)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    writer = None
    approved = 0
    try:
        for done, part in enumerate(_chunks(len(X), chunk_size), start=1):
            scored = score_frame(fitted, manifest, X.iloc[part], scale, background, reasons,
                                 seed=run.manifest["seed"])
            scored.insert(0, "row", np.arange(part.start, part.stop) + 1)
            for c in keep:
                scored.insert(1, c, frame[c].iloc[part].to_numpy())
            approved += int(scored["approved"].sum())
            if out.suffix.lower() == ".parquet":
                batch = pa.Table.from_pandas(scored, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, batch.schema, compression="zstd")
                writer.write_table(batch.cast(writer.schema))
            else:
                scored.to_csv(tmp, mode="a", header=done == 1, index=False)
            if progress is not None:
                progress(part.stop, len(X))
        if writer is not None:
            writer.close()
            writer = None
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return ScoreSummary(name, len(X), out, ignored, kind, approved)
