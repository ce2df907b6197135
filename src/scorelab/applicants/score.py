"""``scorelab score``: new applicants scored by a run's saved final model, with reasons.

The table is checked against the model's input signature (``models/<name>/model.json``)
before anything is scored or written: a missing column, a wrong type or a category the
model never saw is one line naming the column and what is valid; extra columns are
ignored and listed. Scoring runs in chunks (bounded memory) and the output file appears
only when complete.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.base import BaseEstimator

from scorelab.config import Explain
from scorelab.core.scale import ScoreScale
from scorelab.data.loaders import table_batches
from scorelab.exceptions import DataError, OutputError
from scorelab.explain.applicant import ApplicantReasons, applicant_reasons
from scorelab.explain.catalogue import catalogue_for
from scorelab.explain.explainers import (
    Explanation,
    background_sample,
    explain,
    is_exact,
    is_fast,
)
from scorelab.models.persist import load_model
from scorelab.runs.contract import InputColumn, ModelManifest
from scorelab.runs.reader import RunData, load_run

__all__ = ["ScoreSummary", "Scorer", "check_applicants", "load_final_model",
           "score_applicants", "score_chunks", "scorer_for"]

TABLE_SUFFIXES = (".csv", ".parquet")
ID_COLUMNS = ("citizen_id", "applicant_id", "id")  # kept beside the scores when present
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


def check_applicants(frame: pd.DataFrame, inputs: list[InputColumn], label: str,
                     first_row: int = 1) -> pd.DataFrame:
    """The model's input columns of ``frame``, cast back to their training types.

    Raises
    ------
    DataError
        One line naming the first column that is missing, mistyped, holds a category the
        model never saw, or a missing value where training had none, and what is valid.
    """
    names = [c.name for c in inputs]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(f"{label}: missing column(s) {', '.join(missing)} (the model's "
                        f"inputs: {', '.join(names)})")
    out = {}
    for spec in inputs:
        col = frame[spec.name]
        blank = col.isna().to_numpy()
        if blank.any() and not spec.nullable:
            raise DataError(f"{label}: column '{spec.name}' is empty in row "
                            f"{int(np.flatnonzero(blank)[0]) + first_row}, but the model never saw a "
                            "missing value there in training; fill it in")
        if spec.dtype == "category":
            out[spec.name] = _as_known_categories(col, spec, label)
        else:
            out[spec.name] = _as_number(col, spec, label, first_row)
    return pd.DataFrame(out, index=frame.index)


_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _as_number(col: pd.Series, spec: InputColumn, label: str, first_row: int = 1
               ) -> pd.Series:
    """A numeric or boolean input in its training dtype (text that is not a number fails)."""
    if spec.dtype == "boolean" and not pd.api.types.is_bool_dtype(col):
        values = col.astype("string").str.strip().str.lower().map(_BOOLEAN_TEXT)
    elif pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col
    else:
        values = pd.to_numeric(col, errors="coerce")
    bad = values.isna().to_numpy() & col.notna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(f"{label}: column '{spec.name}' must be {spec.dtype}; row "
                        f"{first + first_row} holds {col.iloc[first]!r}")
    if spec.dtype == "integer" and values.notna().all():
        whole = np.asarray(values, dtype=float)
        if not np.array_equal(whole, np.round(whole)):
            first = int(np.flatnonzero(whole != np.round(whole))[0])
            raise DataError(f"{label}: column '{spec.name}' must be a whole number; row "
                            f"{first + first_row} holds {col.iloc[first]!r}")
    return values.astype(spec.pandas_dtype if values.notna().all() else "float64")


def _as_known_categories(col: pd.Series, spec: InputColumn, label: str) -> Any:
    """A categorical input with the training values, in their training type."""
    known = list(spec.categories or [])
    numeric = bool(known) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                  for v in known)
    if numeric:
        keys = pd.to_numeric(col, errors="coerce").astype("float64")
        lookup = {float(v): v for v in known}
    else:
        keys = col.astype("string")
        lookup = {str(v): v for v in known}
    mapped = keys.map(lookup)
    unseen = mapped.isna().to_numpy() & col.notna().to_numpy()
    if unseen.any():
        values = sorted({str(v) for v in col[unseen]})
        raise DataError(f"{label}: column '{spec.name}' holds value(s) "
                        f"{', '.join(map(repr, values[:5]))} not seen in training "
                        f"(valid: {', '.join(map(str, known))})")
    objects = mapped.astype(object).where(mapped.notna(), None).to_numpy()
    if spec.pandas_dtype == "category":
        return pd.Categorical(objects, categories=known)
    return pd.Series(objects, index=col.index, dtype=spec.pandas_dtype)


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


@dataclass
class Scorer:
    """A final model ready to score applicants: its manifest, scale, the background its
    explanations are measured against, and its reasons' ranking (the same for
    ``scorelab score``, a letter to a new applicant, ``Run.score`` and ``Run.explain``:
    one answer per applicant)."""

    name: str
    manifest: ModelManifest
    model: BaseEstimator
    scale: ScoreScale
    background: pd.DataFrame | None
    reasons: int
    seed: int
    max_evals: int
    ranking: ApplicantReasons | None = None

    @property
    def reasons_kind(self) -> str:
        """How the reasons are made: "exact" (an exact decomposition of the model),
        "sampled (...)" (a seeded, budgeted estimate) or "none" (reasons 0)."""
        if self.ranking is None:
            return "none"
        if is_exact(self.model):
            return "exact"
        rows = 0 if self.background is None else len(self.background)
        if is_fast(self.model):
            return (f"deep-shap: the network's DeepLIFT attribution over {rows} background "
                    "rows (exactly additive and deterministic; approximates Shapley values)")
        return (f"sampled: permutation estimate, {self.max_evals} evaluations per applicant "
                f"over {rows} background rows")

    def explain(self, X: pd.DataFrame) -> Explanation:
        """The model's explanation of ``X`` against the run's background rows."""
        return explain(self.model, X, self.background, max_evals=self.max_evals,
                       seed=self.seed)

    def score(self, X: pd.DataFrame, first_row: int, ids: dict[str, np.ndarray]
              ) -> pd.DataFrame:
        """P(default), the score in whole points, category, decision and, for declined
        applicants, up to ``reasons`` adverse-action reasons in points."""
        p = self.model.predict_proba(X)[:, 1]
        points = self.scale.points(p)
        out = pd.DataFrame({"model": self.name, "p_default": p,
                            "score": np.rint(points).astype(np.int64),
                            "category": self.scale.category(points),
                            "approved": points >= self.manifest.cutoff_score}, index=X.index)
        if self.ranking is not None:
            sources = {c.name: c.source for c in self.manifest.inputs}
            declined = np.flatnonzero(~out["approved"].to_numpy())
            part = X.iloc[declined]  # only the declined get reasons: explain only them
            found = (self.ranking.rank(self.model, part, self.explain(part),
                                       np.zeros(len(part), dtype=bool)) if len(part)
                     else {f"reason_{j}{suffix}": np.empty(0) for j in
                           range(1, self.ranking.k + 1) for suffix in ("", "_code", "_text",
                                                                       "_gap")})
            for j in range(1, self.ranking.k + 1):
                for suffix, dtype in (("", object), ("_code", object), ("_text", object),
                                      ("_points", float)):
                    column = np.full(len(X), None if dtype is object else np.nan, dtype=dtype)
                    values = found[f"reason_{j}_gap"] if suffix == "_points" else \
                        found[f"reason_{j}{suffix}"]
                    column[declined] = (0.0 - values * self.scale.factor
                                        if suffix == "_points" else values)
                    out[f"reason_{j}{suffix}"] = column
                out.insert(out.columns.get_loc(f"reason_{j}_points"), f"reason_{j}_source",
                           out[f"reason_{j}"].map(sources))
        out.insert(0, "row", np.arange(first_row, first_row + len(X)))
        for column, values in ids.items():
            out.insert(1, column, values)
        return out.reset_index(drop=True)


#: Scorers kept ready, most recently used last: loading a model and ranking its
#: background costs seconds, and a letter, a score and a served request of the same run
#: and model need the same scorer (a published run directory never changes). Enough for
#: every model of a large study (the default study has eleven): a reader going through
#: a run's models one after another (``scorelab serve``'s what-if, letters, ``Run.score``)
#: would otherwise evict each scorer just before it is asked for again and rebuild all of
#: them on every pass. A scorer holds one final model and its background rows (about a
#: megabyte for the default study's), so the memory stays small and bounded.
_READY: OrderedDict[tuple[str, str, str, int], Scorer] = OrderedDict()
READY_SCORERS = 16


def scorer_for(run: RunData, model: str | None, reasons: int = 4) -> Scorer:
    """The final model ``model`` (default: the run's best) ready to score, with its
    reasons (every family: exact where the model decomposes exactly, DeepSHAP through a
    network, a seeded estimate otherwise; at most four, Regulation B); ``reasons`` 0:
    none. The last few are kept ready (:data:`READY_SCORERS`)."""
    if reasons < 0:
        raise DataError(f"reasons must be 0 or more; got {reasons}")
    name = run.resolve_model(model)
    key = (str(Path(run.run_dir).resolve()), str(run.manifest.get("run_id")), name, reasons)
    if key in _READY:
        _READY.move_to_end(key)
        return _READY[key]
    _READY[key] = scorer = _new_scorer(run, name, reasons)
    while len(_READY) > READY_SCORERS:
        _READY.popitem(last=False)
    return scorer


def _new_scorer(run: RunData, name: str, reasons: int) -> Scorer:
    manifest, fitted = load_final_model(run, name)
    seed = int(run.manifest["seed"])
    max_evals = Explain.model_validate(run.config["explain"]).max_evals
    background, ranking = None, None
    if reasons > 0:
        population = check_applicants(run.population(), manifest.inputs, "population")
        background = background_sample(population, BACKGROUND_SIZE, seed=seed)
        ranking = reason_ranking(run, fitted, manifest, population, background,
                                 min(reasons, 4))
    return Scorer(name, manifest, fitted, scale_of(run), background, min(reasons, 4), seed,
                  max_evals, ranking)


def reason_ranking(run: RunData, model: BaseEstimator, manifest: ModelManifest,
             population: pd.DataFrame, background: pd.DataFrame, k: int) -> ApplicantReasons:
    """Adverse-action ranking of a final model (Regulation B: at most four reasons)."""
    explained = explain(model, background, background, seed=int(run.manifest["seed"]),
                        max_evals=Explain.model_validate(run.config["explain"]).max_evals)
    approved = scale_of(run).points(model.predict_proba(background)[:, 1]) \
        >= manifest.cutoff_score
    barred = (run.adverse_action or {}).get("barred") or {
        **dict.fromkeys(run.config["fairness"]["prohibited"]),
        **dict.fromkeys(run.config["population"].get("protected") or
                        ("age", "sex", "minority", "region"))}
    catalogue = catalogue_for(Explain.model_validate(run.config["explain"]).reasons,
                              list(population.columns),
                              run.study.population.source == "synthetic")
    return applicant_reasons(model, population, explained, approved, catalogue, barred, k)


def _id_columns(columns: list[str]) -> list[str]:
    return [c for c in ID_COLUMNS if c in columns][:1]


def score_chunks(run: RunData, frame: pd.DataFrame, *, model: str | None = None,
                 reasons: int = 4, chunk_size: int = 100_000,
                 label: str = "table", progress: Progress | None = None
                 ) -> tuple[str, str, Iterator[pd.DataFrame]]:
    """Check ``frame`` against the model's signature, then score it chunk by chunk.

    Returns the model's name, how reasons are given ("exact", "sampled" or why none),
    and an iterator of scored chunks (row, an id column if the table has one, model,
    p_default, score, category, approved, reason_k, reason_k_source, reason_k_points).
    Every check runs before the first chunk is scored.
    """
    if chunk_size < 1:
        raise DataError(f"chunk_size must be at least 1; got {chunk_size}")
    scorer = scorer_for(run, model, reasons)
    X = check_applicants(frame, scorer.manifest.inputs, label)
    if len(X) == 0:
        raise DataError(f"{label} has no rows to score")
    keep = _id_columns([str(c) for c in frame.columns])

    def chunks() -> Iterator[pd.DataFrame]:
        for part in _chunks(len(X), chunk_size):
            ids = {c: frame[c].iloc[part].to_numpy() for c in keep}
            yield scorer.score(X.iloc[part], part.start + 1, ids)
            if progress is not None:
                progress(part.stop, len(X))

    return scorer.name, scorer.reasons_kind, chunks()


def _arrow_schema(scored: pd.DataFrame) -> pa.Schema:
    """The output schema, with reason columns typed even when a chunk has none."""
    schema = pa.Schema.from_pandas(scored, preserve_index=False)
    return pa.schema([pa.field(f.name, pa.float64() if f.name.endswith("_points")
                               else pa.string())
                      if pa.types.is_null(f.type) or f.name.startswith("reason_") else f
                      for f in schema], metadata=schema.metadata)


def score_applicants(run_dir: str | Path, table: str | Path, out: str | Path, *,
                     model: str | None = None, reasons: int = 4,
                     chunk_size: int = 100_000, force: bool = False,
                     progress: Progress | None = None) -> ScoreSummary:
    """Score every row of ``table`` with the run's final model; write ``out`` atomically.

    ``model`` defaults to the run's best model. Every declined applicant gets up to
    ``reasons`` adverse-action reasons in points, from every family (exact where the
    model decomposes exactly; a seeded estimate otherwise).
    """
    run = load_run(run_dir)
    table, out = Path(table), Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"--out '{out}': unknown file type '{out.suffix}' (valid: "
                        f"{', '.join(TABLE_SUFFIXES)})")
    if out.is_dir():
        raise OutputError(f"--out '{out}' is a folder; give a file path ending in .csv or "
                          ".parquet")
    if out.exists() and not force:
        raise OutputError(f"--out '{out}' exists; give another path or --force to replace it")
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
        raise OutputError(f"--out '{out}': folder '{out.parent}' is missing or not writable")
    if chunk_size < 1:
        raise DataError(f"chunk_size must be at least 1; got {chunk_size}")
    scorer = scorer_for(run, model, reasons)
    inputs = scorer.manifest.inputs
    header, batches = table_batches(table, "table", size=chunk_size)
    names = {c.name for c in inputs}
    keep = _id_columns(header)
    ignored = [c for c in header if c not in names]
    missing = [c.name for c in inputs if c.name not in header]
    label = f"table '{table}'"
    if missing:
        raise DataError(f"{label}: missing column(s) {', '.join(missing)} (the model's "
                        f"inputs: {', '.join(c.name for c in inputs)})")
    wanted = [c for c in header if c in names or c in keep]
    rows = 0
    for batch in batches(wanted):  # every check over the whole table before anything is written
        check_applicants(batch, inputs, label, first_row=rows + 1)
        rows += len(batch)
    if rows == 0:
        raise DataError(f"{label} has a header but no rows to score")
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    writer = None
    approved = done = 0
    try:
        for batch in batches(wanted):
            X = check_applicants(batch, inputs, label, first_row=done + 1)
            # rows keyed by their position in the table, as a letter to row N keys it
            # (a sampled explanation is seeded by its row's key)
            X.index = pd.RangeIndex(done, done + len(X))
            scored = scorer.score(X, done + 1, {c: batch[c].to_numpy() for c in keep})
            approved += int(scored["approved"].sum())
            if out.suffix.lower() == ".parquet":
                if writer is None:
                    writer = pq.ParquetWriter(tmp, _arrow_schema(scored), compression="zstd")
                writer.write_table(pa.Table.from_pandas(scored, schema=writer.schema,
                                                        preserve_index=False))
            else:
                scored.to_csv(tmp, mode="a", header=done == 0, index=False)
            done += len(batch)
            if progress is not None:
                progress(done, rows)
        if writer is not None:
            writer.close()
            writer = None
        os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return ScoreSummary(scorer.name, rows, out, ignored, scorer.reasons_kind, approved)
