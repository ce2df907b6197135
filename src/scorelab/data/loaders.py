"""Bring-your-own-table populations: a table of applicants with an outcome (text, Parquet or
Excel; read by :mod:`scorelab.data.tables`).

:func:`load_table_population` turns a ``population.source: table`` config section
(:class:`scorelab.config.TablePopulation`) into the same :class:`Population` the
synthetic model makes, so every family, the fairness audit and the data card run on it
unchanged. Nothing is ever written; every problem is one line of :class:`DataError`
that names the file and the column and says what would be valid.

What the loader does with the table:

* ``citizen_id`` (role ``id``): the integer ``id_column`` when one is given (it must
  hold unique whole numbers; the original column is replaced), else the row number
  1..n (row 1 = the first applicant, as in every message naming rows). A table that
  already has a ``citizen_id`` column must name it as id_column.
* The target keeps its name (role ``target``) and becomes 0/1: 1 where the value equals
  ``default_value`` (compared as given, or as text when the column's type differs,
  so ``default_value: 2`` and ``"2"`` both match a column of 1/2 codes), 0 for the one
  other value. The target must have exactly two distinct values and no missing value.
* Protected columns (role ``protected``, kind ``direct``): the age attribute (declared
  ``age``, or a column named exactly ``age`` declared ``continuous``) and other
  continuous ones are coerced to float and must be numeric; categorical ones become
  ``category``. Nothing is renamed: ``meta["age_column"]`` names the age attribute (or
  None), so every age analysis and report follows the table's own column. A protected
  column named like age (``AGE``, ``Age``) must be declared ``age`` (else it would get no
  age analysis). ``meta["missing_protected"]`` counts missing values per protected
  column (the fairness audit's ``missing_protected`` policy decides what they mean).
* Every other kept column is a ``feature`` (kind ``direct``); its source is the one
  given in ``sources`` or ``"none"`` (unknown) otherwise. ``drop`` removes columns.
* Categorical columns: the ``categorical`` list when given (any column with text in it
  must then be listed), else *inferred from the dtype only*: object, string, bool and
  category columns. Integer codes are **not** inferred as categories (an ordinal code
  such as an instalment rate 1-4 stays numeric); list them in ``categorical`` to make
  them categories. Categorical columns get pandas ``category`` dtype.
* Missing values stay NaN (each family handles them), but a column with no value at
  all, an infinite number, a nested value (a Parquet list) or a column of numbers with
  a few stray texts is one line naming the column and the rows; so is an age outside
  0-130.

:func:`check_rows_for_folds` tells whether the table has enough rows of each class for
stratified K-fold (``evaluation.folds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import MAX_AGE, MIN_AGE, TablePopulation
from scorelab.core.messages import excerpt, row_list
from scorelab.data.datasets import bundled_path
from scorelab.data.schema import ColumnSpec, Schema
from scorelab.data.synthetic import Population
from scorelab.data.tables import (
    FOLDER,
    SUPPORTED_SUFFIXES,
    _listing,
    parquet_parts,
    read_table,
    read_table_file,
    table_batches,
)
from scorelab.exceptions import DataError

__all__ = ["FOLDER", "SUPPORTED_SUFFIXES", "check_rows_for_folds", "load_table_population",
           "parquet_parts", "read_table", "read_table_file", "resolve_table_path",
           "table_batches"]

ID_COLUMN = "citizen_id"
_ROWS_KEPT = 20  # dropped rows listed in the data card at most (the count says all)
_EXACT_INT = 2**53  # ids above it are not exact as floats (two ids could become one)


def resolve_table_path(path: str | Path, base_dir: str | Path | None) -> Path:
    """``path`` itself if absolute, else relative to ``base_dir`` (the config's folder)."""
    path = Path(path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    return path


def _is_text_like(series: pd.Series) -> bool:
    return (isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object
            or pd.api.types.is_string_dtype(series) or pd.api.types.is_bool_dtype(series))


def _check_columns_exist(where: str, wanted: Iterable[str], columns: Sequence[str],
                         path: Path) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataError(f"{where}: column(s) {_listing(missing)} not in '{path.name}'; "
                        f"its columns: {_listing(columns)}")


def _target_01(series: pd.Series, default_value: Any, path: Path) -> pd.Series:
    name = series.name
    if series.isna().any():
        raise DataError(f"population.target '{name}' in '{path.name}' has missing values in "
                        f"{row_list(series.isna().to_numpy())}; every applicant needs a known "
                        "outcome: remove those rows")
    values = pd.unique(series)
    if len(values) < 2:
        raise DataError(f"population.target '{name}' in '{path.name}' has one class only "
                        f"({_listing(values)}); it needs defaults and non-defaults")
    if len(values) > 2:
        shown = sorted(map(str, values))
        raise DataError(f"population.target '{name}' in '{path.name}' has {len(values)} "
                        f"distinct values ({_listing(shown)}); it must have exactly two: "
                        f"the default_value {default_value!r} and one other")
    is_default = series == default_value
    if not bool(is_default.any()) and not isinstance(default_value, bool):
        is_default = series.astype(str).str.strip() == str(default_value).strip()
    if not bool(is_default.any()):
        raise DataError(f"population.default_value {default_value!r} does not occur in "
                        f"target '{name}' of '{path.name}'; its values are "
                        f"{_listing(sorted(map(str, values)))}")
    return pd.Series(is_default.to_numpy().astype(np.int64), index=series.index, name=name)


def _numeric(series: pd.Series, what: str, path: Path) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        raise DataError(f"{what} '{series.name}' in '{path.name}' is true/false; it must be "
                        "numeric (declare it categorical instead)")
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        examples = pd.unique(series[bad])[:3]
        raise DataError(f"{what} '{series.name}' in '{path.name}' must be numeric; "
                        f"{int(bad.sum())} value(s) are not, e.g. {_listing(examples)}")
    return converted.astype(float)


def _citizen_ids(frame: pd.DataFrame, id_column: str | None, path: Path) -> np.ndarray:
    if id_column is None:
        if ID_COLUMN in frame.columns:
            raise DataError(f"'{path.name}' has a column '{ID_COLUMN}' but population."
                            f"id_column is not set; set id_column: {ID_COLUMN} (or drop it)")
        return np.arange(1, len(frame) + 1, dtype=np.int64)
    if ID_COLUMN in frame.columns and id_column != ID_COLUMN:
        raise DataError(f"'{path.name}' has a column '{ID_COLUMN}', the name scorelab gives "
                        f"the applicant id (here from '{id_column}'); rename it, drop it, or "
                        f"make it the id_column")
    ids = pd.to_numeric(frame[id_column], errors="coerce")
    exact = ids.dtype.kind == "i" or (ids.dtype.kind in "uf" and bool(
        (ids.abs() <= _EXACT_INT).all()))
    whole = ids.notna().all() and bool(np.all(np.isfinite(ids)) and np.all(ids == np.floor(ids)))
    if not (whole and exact):
        raise DataError(f"population.id_column '{id_column}' in '{path.name}' must hold whole "
                        f"numbers up to {_EXACT_INT:,} (no text, no missing values); leave "
                        "id_column unset to number the rows 1..n")
    ids = ids.astype(np.int64)
    if ids.duplicated().any():
        dup = pd.unique(ids[ids.duplicated()])
        raise DataError(f"population.id_column '{id_column}' in '{path.name}' has duplicate "
                        f"ids ({_listing(dup)}); every applicant needs a unique id")
    return ids.to_numpy()


def load_table_population(cfg: TablePopulation, base_dir: str | Path | None = None,
                          folds: int | None = None,
                          frame: pd.DataFrame | None = None) -> Population:
    """A :class:`Population` from the table named by ``cfg`` (see the module doc).

    ``base_dir`` is the config file's folder (relative ``cfg.path`` is resolved against
    it; ``None``: the working directory). With ``folds`` the table is also checked for
    stratified K-fold (:func:`check_rows_for_folds`). ``frame`` gives the table itself
    (from Python) instead of ``cfg.path``; every other check is the same.
    """
    if frame is not None:
        if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0 or len(frame) == 0:
            raise DataError("population: give a pandas DataFrame with a header and at least "
                            "one row of applicants")
        path, raw = Path("<DataFrame>"), frame.reset_index(drop=True)
        read = None
    elif cfg.path is None:
        raise DataError("population.path: a table study needs the path of a table file "
                        "(CSV, TSV, Parquet or Excel; or, from Python, scorelab.run(config, "
                        "population=dataframe))")
    else:
        path = resolve_table_path(cfg.path, base_dir)
        path = bundled_path(path) or path  # a copied config still finds a bundled dataset
        read = read_table_file(path, delimiter=cfg.delimiter, sheet=cfg.sheet,
                               bad_rows=cfg.bad_rows)
        raw = read.frame
    columns = list(raw.columns)

    target = cfg.target
    if target not in columns:
        raise DataError(f"population.target '{excerpt(target)}' is not a column of "
                        f"'{path.name}'; its columns: {_listing(columns)}"
                        + _delimiter_hint(columns, cfg.delimiter))
    _check_columns_exist("population.protected", cfg.protected, columns, path)
    _check_columns_exist("population.drop", cfg.drop, columns, path)
    _check_columns_exist("population.categorical", cfg.categorical or [], columns, path)
    _check_columns_exist("population.sources", cfg.sources, columns, path)
    if cfg.id_column is not None:
        _check_columns_exist("population.id_column", [cfg.id_column], columns, path)
    if cfg.date_column is not None:
        _check_columns_exist("population.date_column", [cfg.date_column], columns, path)

    special = {"population.target": [target], "population.id_column": [cfg.id_column],
               "population.date_column": [cfg.date_column]}
    for what, names in special.items():
        for lst_name, lst in (("protected", cfg.protected), ("drop", cfg.drop)):
            clash = [n for n in names if n is not None and n in lst]
            if clash:
                raise DataError(f"{what} '{clash[0]}' is also in population.{lst_name}; "
                                "a column can have one role only")
    clash = [c for c in cfg.protected if c in cfg.drop]
    if clash:
        raise DataError(f"population.protected column '{clash[0]}' is also in population.drop; "
                        "remove it from one of them")
    _check_age_declared(cfg)

    dropped = set(cfg.drop) | {c for c in (cfg.id_column, cfg.date_column) if c is not None}
    kept = [c for c in columns if c not in dropped]
    given_cats = None if cfg.categorical is None else set(cfg.categorical)
    if given_cats is not None:
        wrong = [c for c in given_cats if cfg.protected.get(c) in ("age", "continuous")]
        if wrong:
            raise DataError(f"population.categorical lists '{wrong[0]}', which population."
                            f"protected declares {cfg.protected[wrong[0]]}; remove it from "
                            "one of them")

    y = _target_01(raw[target], cfg.default_value, path)
    ids = _citizen_ids(raw, cfg.id_column, path)

    out: dict[str, Any] = {ID_COLUMN: ids}
    origin = f"column {cfg.id_column}" if cfg.id_column else "row number"
    specs: list[ColumnSpec] = [ColumnSpec(ID_COLUMN, "none", "none", "id",
                                          f"Applicant id ({origin} of {path.name}).")]
    if cfg.date_column is not None:
        out[cfg.date_column] = application_dates(raw[cfg.date_column], path)
        specs.append(ColumnSpec(cfg.date_column, "none", "none", "date",
                                f"Application date (column '{cfg.date_column}' of "
                                f"{path.name}); orders applications, never an input."))
    categorical: list[str] = []
    for name in kept:
        if name == target:
            continue
        series = raw[name]
        protected_kind = cfg.protected.get(name)
        _check_cells(series, path, feature=protected_kind is None)
        if protected_kind in ("age", "continuous"):
            out[name] = _numeric(series, "population.protected column", path)
        elif protected_kind == "categorical" or (
                given_cats is None and _is_text_like(series)) or (
                given_cats is not None and name in given_cats):
            if protected_kind is None and given_cats is None:
                _check_no_stray_text(series, path)
            out[name] = series.astype("category")
            categorical.append(name)
        elif _is_text_like(series):
            assert given_cats is not None
            if protected_kind is None:
                _check_no_stray_text(series, path)  # numbers with a few texts: name them
            raise DataError(f"column '{name}' of '{path.name}' holds text but is not listed "
                            "in population.categorical; add it there, drop it, or set "
                            "categorical: null to infer categories from the column types")
        elif pd.api.types.is_numeric_dtype(series):
            out[name] = series
        else:
            raise DataError(f"column '{name}' of '{path.name}' has type {series.dtype}, "
                            "which no family can use; valid: numbers or categories "
                            "(drop it with population.drop)")
        if name not in categorical:
            _check_finite(out[name], path)
        if name == cfg.age_column:
            _check_ages(out[name], path)
        role = "protected" if protected_kind else "feature"
        source = cfg.sources.get(name, "none")
        kind = "direct"
        detail = (f"protected ({protected_kind})" if protected_kind else
                  "categorical" if name in categorical else "numeric")
        specs.append(ColumnSpec(name, source, kind, role,  # type: ignore[arg-type]
                                f"Column '{name}' of {path.name} ({detail})."))
    if not any(spec.role == "feature" for spec in specs):
        raise DataError(f"'{path.name}' has no feature column: every column is the target, "
                        f"protected, dropped or the id (columns: {_listing(columns)}); a "
                        "model needs at least one input")
    out[target] = y.to_numpy()
    specs.append(ColumnSpec(target, "none", "none", "target",
                            f"Outcome: 1 = default ({target} == {cfg.default_value!r}), "
                            "0 = no default."))

    frame = pd.DataFrame(out, index=pd.RangeIndex(len(raw)))
    schema = Schema(tuple(specs))
    default_seen = raw[target][y == 1].iloc[0]
    no_default = [v for v in pd.unique(raw[target]) if v != default_seen]
    meta: dict[str, Any] = {
        "source": "table",
        "path": str(path),
        "n_citizens": int(len(frame)),
        "target": target,
        "default_value": cfg.default_value,
        "no_default_value": str(no_default[0]),
        "n_defaults": int(y.sum()),
        "categorical": categorical,
        "dropped": sorted(cfg.drop),
        "id_column": cfg.id_column,
        "protected": dict(cfg.protected),
        "age_column": cfg.age_column,
        "missing_protected": {c: int(frame[c].isna().sum()) for c in cfg.protected
                              if frame[c].isna().any()},
    }
    if read is not None:
        meta["file"] = {"kind": read.kind, "delimiter": read.delimiter, "sheet": read.sheet}
        if read.dropped_rows:
            meta["dropped_rows"] = {"count": len(read.dropped_rows),
                                    "rows": list(read.dropped_rows[:_ROWS_KEPT]),
                                    "why": "number of fields other than the header's "
                                           "(population.bad_rows: drop)"}
    pop = Population(frame, schema, meta)
    if folds is not None:
        check_rows_for_folds(pop, folds)
    return pop


def application_dates(series: pd.Series, path: Path) -> pd.Series:
    """The date column as dates (ISO 8601 text such as 2021-03-15 is parsed) or numbers
    (e.g. a month index); one line naming the first row that is neither."""
    what = f"population.date_column '{excerpt(series.name)}' of '{path.name}'"
    if pd.api.types.is_datetime64_any_dtype(series) or (
            pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        values = series
    else:
        values = pd.to_datetime(series.astype("string"), format="ISO8601", errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        shown = "missing" if pd.isna(series.iloc[row]) else repr(excerpt(series.iloc[row]))
        raise DataError(f"{what}: row {row + 1} is {shown}, not a date; every application "
                        "needs a date (e.g. 2021-03-15) or a number such as a month index")
    return values.reset_index(drop=True)


def _delimiter_hint(columns: Sequence[str], given: str | None) -> str:
    """A hint when the whole header is one column holding another delimiter (sniffing
    would have found it: the config's population.delimiter is another one)."""
    if len(columns) == 1:
        for mark, name, shown in ((";", "semicolons", "';'"), ("\t", "tabs", '"\\t"'),
                                  ("|", "bars", "'|'"), (",", "commas", "','")):
            if mark in columns[0] and mark != given:
                return (f" (the header looks separated by {name}, but population."
                        f"delimiter is {given!r}: set it to {shown}, or remove it to have "
                        "the delimiter sniffed)")
    return ""


def _check_cells(series: pd.Series, path: Path, feature: bool) -> None:
    """A column of plain cells, and a feature with at least one known value."""
    if series.dtype == object:
        nested = series.map(lambda v: isinstance(v, list | tuple | dict | set | np.ndarray))
        if nested.any():
            kind = type(series[nested].iloc[0]).__name__
            raise DataError(f"column '{excerpt(series.name)}' of '{path.name}' holds nested "
                            f"values ({kind}) in {row_list(nested.to_numpy())}; every cell "
                            "must be a number, a text or true/false: flatten it or list it "
                            "in population.drop")
    if feature and series.isna().all():
        raise DataError(f"column '{excerpt(series.name)}' of '{path.name}' has no value (all "
                        f"{len(series):,} rows missing); fill it or list it in "
                        "population.drop")


def _check_no_stray_text(series: pd.Series, path: Path) -> None:
    """A column of numbers with a few texts ('n/a', '?') is a typo, not a category with
    hundreds of values: name the rows instead of silently making it categorical."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
        return
    known = series.notna()
    parsed = pd.to_numeric(series[known].astype(str).str.strip(), errors="coerce").notna()
    if parsed.all() or parsed.mean() <= 0.5:
        return
    stray = known.copy()
    stray[known] = ~parsed.to_numpy()
    examples = _listing(pd.unique(series[stray])[:3])
    raise DataError(f"column '{excerpt(series.name)}' of '{path.name}' holds numbers, but "
                    f"{row_list(stray.to_numpy())} hold text (e.g. {examples}); fix them, "
                    "leave them empty (missing), or list the column in "
                    "population.categorical")


def _check_finite(series: pd.Series, path: Path) -> None:
    """No infinite number: it would break every fit and every mean (leave the cell empty
    for a missing value)."""
    values = series.to_numpy(dtype=float, na_value=np.nan)
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(f"column '{excerpt(series.name)}' of '{path.name}' has infinite "
                        f"values in {row_list(infinite)}; give a number, or leave the cell "
                        "empty for a missing value")


def _check_ages(series: pd.Series, path: Path) -> None:
    """Ages a person can have: a -5 or a 500 is a data error that would skew every age
    band and the age analysis."""
    ages = series.to_numpy(dtype=float, na_value=np.nan)
    wrong = (ages < MIN_AGE) | (ages > MAX_AGE)
    if wrong.any():
        examples = ", ".join(f"{a:g}" for a in pd.unique(ages[wrong])[:3])
        raise DataError(f"age column '{excerpt(series.name)}' of '{path.name}' has ages "
                        f"outside {MIN_AGE}-{MAX_AGE} in {row_list(wrong)} (e.g. {examples}); "
                        "fix or remove those rows (leave a cell empty for a missing age)")


def _check_age_declared(cfg: TablePopulation) -> None:
    """A protected column named like age must be the age attribute: otherwise its years
    would be audited as plain numbers, with no age analysis, and nothing would say so."""
    if cfg.protected.get("age") == "categorical":
        raise DataError("population.protected: 'age' must be declared age (or continuous): "
                        "it is audited in fairness.age_bands, not as categories")
    if cfg.age_column is not None:
        return
    for name, kind in cfg.protected.items():
        if name.strip().lower() == "age":
            raise DataError(f"population.protected: '{name}' is declared {kind}, so it would "
                            f"get no age analysis; declare it '{name}: age' (age bands, "
                            "cut-point sweep, proxy audit follow the age attribute)")


def check_rows_for_folds(pop: Population, folds: int) -> None:
    """Raise :class:`DataError` unless each class has at least ``folds`` rows.

    Stratified K-fold puts rows of both classes into every fold, so the smaller class
    (usually the defaults) needs at least K rows.
    """
    y = np.asarray(pop.frame[pop.schema.target])
    counts = {label: int((y == value).sum()) for label, value in (("defaults", 1),
                                                                   ("non-defaults", 0))}
    label, smallest = min(counts.items(), key=lambda kv: kv[1])
    if smallest < folds:
        where = pop.meta.get("path", "the population")
        raise DataError(f"'{where}' has {smallest} {label} ({len(y)} rows), fewer than "
                        f"evaluation.folds = {folds}; stratified K-fold needs at least K rows "
                        f"of each class: lower evaluation.folds (min 2) or add rows")
