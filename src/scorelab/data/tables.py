"""Reading a table file: text tables, Parquet files and folders, Excel workbooks.

:func:`read_table_file` reads the table a lender keeps, whatever its form:

* **text** (``.csv``, ``.tsv``, ``.txt``, each also compressed: ``.gz``, ``.bz2``,
  ``.zip`` with one file, ``.xz``): the delimiter is the one given
  (``population.delimiter``) or sniffed from the first lines among comma, semicolon,
  tab and bar (the one that splits the header into the most columns, with every
  sniffed line as wide as the header). Every row must have the header's number of
  fields: a stray delimiter shifts each later value one column, which no later check
  would see, so such rows are refused in one line naming them, or dropped and counted
  (``bad_rows="drop"``);
* **Parquet**: a file, or a folder of parts (a Spark or Dask export) stacked in name
  order (:func:`parquet_parts`);
* **Excel** (``.xlsx``, ``.xlsm``): a sheet by name, or the first, through openpyxl (the
  ``excel`` extra), imported only when a workbook is read.

Nothing is written; every problem is one line of :class:`DataError` naming the file
(``what`` names the key or option that gave it, e.g. ``population.path``).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scorelab.core.messages import excerpt, one_line, row_list
from scorelab.exceptions import DataError

__all__ = ["COMPRESSIONS", "DELIMITERS", "EXCEL_SUFFIXES", "FOLDER", "PARQUET_SUFFIXES",
           "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "TableFile", "parquet_parts",
           "read_table", "read_table_file", "table_batches", "table_kind"]

#: Text tables; each is also read compressed (``.csv.gz``, ``.tsv.zip``, ...).
TEXT_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt")
#: Compressions of a text table, by the file's last suffix (pandas' names).
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
EXCEL_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")
SUPPORTED_SUFFIXES: tuple[str, ...] = (
    *TEXT_SUFFIXES, *(t + c for t in TEXT_SUFFIXES for c in COMPRESSIONS),
    *PARQUET_SUFFIXES, *EXCEL_SUFFIXES)
#: What a table may be, for messages.
VALID_TYPES = ("valid: a text table (.csv, .tsv, .txt, each also .gz, .bz2, .zip or .xz), "
               "Parquet (.parquet, .pq, or a folder of Parquet files) or an Excel workbook "
               "(.xlsx, .xlsm)")
FOLDER = "folder"  # a table given as a folder of Parquet files with the same columns
#: Delimiters a text table is sniffed for (ties go to the first).
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}
_SNIFF_CHARS = 64_000  # the first characters of a text table its delimiter is sniffed from
_SNIFF_LINES = 50
_SHOW = 8  # values/columns listed in an error message at most
EXCEL_EXTRA = "pip install 'scorelab[excel]'"


def _listing(values: Iterable[Any]) -> str:
    """A short one-line listing of values (at most ``_SHOW``, each an excerpt)."""
    items = [v.item() if isinstance(v, np.generic) else v for v in values]
    more = f", ... ({len(items) - _SHOW} more)" if len(items) > _SHOW else ""
    return ", ".join(excerpt(i) for i in items[:_SHOW]) + more


@dataclass(frozen=True)
class TableFile:
    """A table as read from its file, with what reading it decided.

    Attributes
    ----------
    frame : the table (column names stripped of surrounding spaces).
    kind : ``text``, ``parquet`` or ``excel``.
    delimiter : a text table's delimiter (given or sniffed), else None.
    sheet : an Excel workbook's sheet that was read, else None.
    dropped_rows : rows of the wrong width left out (``bad_rows="drop"``), counted from
        1 = the first row after the header.
    """

    frame: pd.DataFrame
    kind: Literal["text", "parquet", "excel"]
    delimiter: str | None = None
    sheet: str | None = None
    dropped_rows: tuple[int, ...] = ()

    @property
    def delimiter_name(self) -> str | None:
        """The delimiter in words (``semicolons``), for messages and config comments."""
        return None if self.delimiter is None else \
            _DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return "".join(path.suffixes[-2:]).lower() or "(none)"


def table_kind(path: str | Path) -> Literal["text", "parquet", "excel"] | None:
    """What a table file is by its name (a folder: Parquet parts); None: unsupported."""
    path = Path(path)
    if path.is_dir():
        return "parquet"
    suffix = _suffix(path)
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    return "text" if suffix in SUPPORTED_SUFFIXES else None


def read_table(path: str | Path, what: str = "population.path", *,
               delimiter: str | None = None, sheet: str | None = None,
               bad_rows: Literal["error", "drop"] = "error") -> pd.DataFrame:
    """The raw table in a file (see :func:`read_table_file`)."""
    return read_table_file(path, what, delimiter=delimiter, sheet=sheet,
                           bad_rows=bad_rows).frame


def read_table_file(path: str | Path, what: str = "population.path", *,
                    delimiter: str | None = None, sheet: str | None = None,
                    bad_rows: Literal["error", "drop"] = "error") -> TableFile:
    """The table in a text, Parquet or Excel file (or a folder of Parquet files), checked
    for the problems that make it unusable: missing, unsupported, empty, duplicate
    columns, rows of the wrong width.

    ``what`` names the file in messages (the config key, or e.g. "table" for ``score``);
    ``delimiter`` (text; None: sniffed), ``sheet`` (Excel; None: the first) and
    ``bad_rows`` (text: ``error`` or ``drop``) are the population section's keys.
    """
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise DataError(f"{what}: the delimiter must be one character such as ',', ';', "
                        f"'|' or a tab; got {delimiter!r}")
    path, suffix, parts = _checked_file(path, what)
    if suffix in (*PARQUET_SUFFIXES, FOLDER):
        table = TableFile(_read_parquet(path, parts, what), "parquet")
    elif suffix in EXCEL_SUFFIXES:
        table = _read_excel(path, what, sheet)
    else:
        table = _read_text(path, what, _compression(suffix), delimiter, bad_rows)
    frame = table.frame
    if frame.shape[1] == 0:
        raise DataError(f"{what} '{path}' has no columns")
    if len(frame) == 0:
        raise DataError(f"{what} '{path}' has a header but no rows of applicants")
    return table


def _compression(suffix: str) -> str | None:
    for ending, name in COMPRESSIONS.items():
        if suffix.endswith(ending):
            return name
    return None


def _checked_file(path: str | Path, what: str) -> tuple[Path, str, list[Path]]:
    """The path, its type and its files, once it is an existing, non-empty table file
    (its one file), or a folder of Parquet files (type ``"folder"``, its parts: see
    :func:`parquet_parts`)."""
    path = Path(path)
    if not path.exists():
        hint = ("; relative paths are relative to the config file's folder"
                if what == "population.path" else "")
        raise DataError(f"{what} '{path}' not found (give a CSV, TSV, Parquet or Excel "
                        f"file, or a folder of Parquet files{hint})")
    if path.is_dir():
        return path, FOLDER, parquet_parts(path, what)
    if not path.is_file():
        raise DataError(f"{what} '{path}' is not a file (give a CSV, TSV, Parquet or Excel "
                        "file)")
    suffix = _suffix(path)
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(f"{what} '{path}': unsupported file type '{suffix}'; {VALID_TYPES}")
    if path.stat().st_size == 0:
        raise DataError(f"{what} '{path}' is empty (0 bytes); it needs a header "
                        "row and at least one row of applicants")
    return path, suffix, [path]


def parquet_parts(folder: Path, what: str) -> list[Path]:
    """The Parquet files of a folder table, in name order (sub-folders included; hidden
    files and Spark/Hadoop markers such as ``_SUCCESS`` skipped), each checked to have
    the first one's columns, so that the parts stack into one table."""
    def visible(p: Path) -> bool:
        return not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)

    files = sorted(p for p in folder.rglob("*") if p.is_file() and visible(p))
    parts = [p for p in files if _suffix(p) in PARQUET_SUFFIXES]
    others = [p for p in files if p not in set(parts)]
    if not parts:
        raise DataError(f"{what} '{folder}' is a folder with no Parquet files (give a CSV, "
                        "TSV, Parquet or Excel file, or a folder of .parquet files)")
    if others:
        raise DataError(f"{what} '{folder}': a folder table holds Parquet files only; "
                        f"found {_listing(str(p.relative_to(folder)) for p in others)}")
    names = None
    for part in parts:
        try:
            columns = pq.read_schema(part).names
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(f"{what} '{part}' is not a readable Parquet file "
                            f"({exc.__class__.__name__}: {one_line(exc, 200)})") from None
        if names is None:
            names = columns
        elif columns != names:
            raise DataError(f"{what} '{folder}': part '{part.relative_to(folder)}' has "
                            f"columns {_listing(columns)}, but '{parts[0].relative_to(folder)}'"
                            f" has {_listing(names)}; every part needs the same columns")
    return parts


Batches = Callable[[Sequence[str]], Iterator[pd.DataFrame]]


def table_batches(path: str | Path, what: str, size: int = 100_000
                  ) -> tuple[list[str], Batches]:
    """The header of a table and a way to read chosen columns of it, again and again, in
    batches of ``size`` rows, so that a million-row table is never whole in memory (an
    Excel sheet, at most a million rows, is read whole once)."""
    path, suffix, parts = _checked_file(path, what)
    if suffix in EXCEL_SUFFIXES:
        frame = read_table(path, what)

        def sheet_batches(columns: Sequence[str]) -> Iterator[pd.DataFrame]:
            wanted = [c for c in frame.columns if c in set(columns)]
            for start in range(0, len(frame), size):
                yield frame.iloc[start:start + size][wanted].reset_index(drop=True)

        return list(frame.columns), sheet_batches
    parquet = suffix in (*PARQUET_SUFFIXES, FOLDER)
    compression = None if parquet else _compression(suffix)
    delimiter = None if parquet else _sniffed(path, what, compression, None)[0]
    try:
        header = (list(pq.read_schema(parts[0]).names) if parquet else
                  list(pd.read_csv(path, nrows=0, sep=delimiter, encoding="utf-8-sig",
                                   compression=compression).columns))
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        kind = "Parquet" if parquet else "CSV"
        raise DataError(f"{what} '{path}' is not a readable {kind} file "
                        f"({type(exc).__name__})") from None
    dup = _duplicates(header)
    if dup:
        raise DataError(f"{what} '{path}': duplicate column names {_listing(dup)}; "
                        "every column needs a unique name")

    def batches(columns: Sequence[str]) -> Iterator[pd.DataFrame]:
        wanted = [c for c in header if c in set(columns)]
        try:
            if parquet:  # part by part: a folder is never whole in memory either
                for part in parts:
                    for batch in pq.ParquetFile(part).iter_batches(batch_size=size,
                                                                   columns=wanted):
                        yield batch.to_pandas()
            else:
                yield from pd.read_csv(path, usecols=wanted, chunksize=size, sep=delimiter,
                                       low_memory=False, compression=compression,
                                       encoding="utf-8-sig")
        except (ValueError, OSError, UnicodeDecodeError, pa.ArrowException) as exc:
            first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise DataError(f"{what} '{path}' cannot be read ({first})") from None

    return header, batches


def _duplicates(names: Sequence[Any]) -> list[str]:
    seen: set[str] = set()
    dup: list[str] = []
    for name in map(str, names):
        if name in seen and name not in dup:
            dup.append(name)
        seen.add(name)
    return dup


# --------------------------------------------------------------------------- text

_TEXT_ERRORS = (OSError, UnicodeDecodeError, EOFError, zipfile.BadZipFile, lzma.LZMAError)


def _open_text(path: Path, what: str, compression: str | None) -> IO[str]:
    """The text of a (compressed) table, decoded as UTF-8 (a byte-order mark dropped)."""
    options: dict[str, Any] = {"encoding": "utf-8-sig", "newline": ""}
    if compression is None:
        return open(path, **options)  # the caller closes it
    if compression == "gzip":
        return gzip.open(path, "rt", **options)
    if compression == "bz2":
        return bz2.open(path, "rt", **options)
    if compression == "xz":
        return lzma.open(path, "rt", **options)
    archive = zipfile.ZipFile(path)
    names = [n for n in archive.namelist() if not n.endswith("/")]
    if len(names) != 1:
        archive.close()
        raise DataError(f"{what} '{path}': a zipped table holds exactly one file; this "
                        f"archive holds {len(names)} ({_listing(names)})")
    return io.TextIOWrapper(archive.open(names[0]), **options)


def _sniff(lines: list[str]) -> str:
    """The delimiter that splits the header into the most columns with every line as
    wide as the header (ties: the first of :data:`DELIMITERS`); a comma when none splits
    it (a one-column table)."""
    best, best_key = ",", (0.0, 1)
    for mark in DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=mark) if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        key = (round(sum(len(r) == width for r in rows) / len(rows), 2), width)
        if key > best_key:
            best, best_key = mark, key
    return best


def _sniffed(path: Path, what: str, compression: str | None, delimiter: str | None
             ) -> tuple[str, list[str]]:
    """The delimiter (``delimiter``, else sniffed) and the header of a text table."""
    try:
        with _open_text(path, what, compression) as handle:
            head = handle.read(_SNIFF_CHARS)
    except _TEXT_ERRORS as exc:
        raise DataError(f"{what} '{path}' cannot be read as UTF-8 CSV "
                        f"({exc.__class__.__name__}: {one_line(exc, 200)})") from None
    lines = head.splitlines()
    if len(head) == _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    lines = lines[:_SNIFF_LINES]
    mark = delimiter if delimiter is not None else _sniff(lines)
    header = next(csv.reader(lines[:1], delimiter=mark), []) if lines else []
    return mark, [h.strip() for h in header]


def _read_text(path: Path, what: str, compression: str | None, delimiter: str | None,
               bad_rows: Literal["error", "drop"]) -> TableFile:
    mark, header = _sniffed(path, what, compression, delimiter)
    if not any(header):
        raise DataError(f"{what} '{path}' has an empty first line; it needs a "
                        "header row of column names")
    dup = _duplicates(header)
    if dup:
        raise DataError(f"{what} '{path}': duplicate column names {_listing(dup)}; "
                        "every column needs a unique name")
    wrong, widths, n_rows = _wrong_width_rows(path, what, compression, mark, len(header))
    source: Any = path
    if wrong:
        if bad_rows == "error":
            mask = np.zeros(n_rows, dtype=bool)
            mask[np.asarray(wrong) - 1] = True
            verb = "has" if len(wrong) == 1 else "have"
            raise DataError(
                f"{what} '{path}': {row_list(mask)} {verb} a number of fields other than "
                f"the header's {len(header)} (row {wrong[0]} has {widths[0]}: a stray or "
                "missing delimiter shifts every later value one column); fix them, or set "
                "population.bad_rows: drop (scorelab init: --drop-bad-rows) to read the "
                "table without them")
        source = _without_rows(path, what, compression, mark, set(wrong))
    try:
        frame = pd.read_csv(source, sep=mark, encoding="utf-8-sig", skipinitialspace=True,
                            low_memory=False, index_col=False,
                            compression=compression if source is path else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError, ValueError) as exc:
        raise DataError(f"{what} '{path}' is not a readable CSV file "
                        f"({exc.__class__.__name__}: {one_line(exc, 200)})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return TableFile(frame, "text", delimiter=mark, dropped_rows=tuple(wrong))


def _records(path: Path, what: str, compression: str | None, mark: str
             ) -> Iterator[list[str]]:
    """The records of a text table (header first), blank lines skipped as pandas skips
    them; one line naming the file when it cannot be parsed."""
    try:
        with _open_text(path, what, compression) as handle:
            for record in csv.reader(handle, delimiter=mark):
                if record:
                    yield record
    except csv.Error as exc:
        raise DataError(f"{what} '{path}' is not a readable CSV file (csv.Error: "
                        f"{one_line(exc, 200)}; an unbalanced quote?)") from None
    except _TEXT_ERRORS as exc:
        raise DataError(f"{what} '{path}' cannot be read as UTF-8 CSV "
                        f"({exc.__class__.__name__}: {one_line(exc, 200)})") from None


def _wrong_width_rows(path: Path, what: str, compression: str | None, mark: str,
                      width: int) -> tuple[list[int], list[int], int]:
    """The rows (1 = the first after the header) whose number of fields is not
    ``width``, their numbers of fields, and the number of rows."""
    wrong: list[int] = []
    widths: list[int] = []
    n = -1
    for n, record in enumerate(_records(path, what, compression, mark)):
        if n and len(record) != width:
            wrong.append(n)
            widths.append(len(record))
    return wrong, widths, max(n, 0)


def _without_rows(path: Path, what: str, compression: str | None, mark: str,
                  dropped: set[int]) -> io.StringIO:
    """The table's text without the ``dropped`` rows, for pandas to parse."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=mark, lineterminator="\n")
    for n, record in enumerate(_records(path, what, compression, mark)):
        if n not in dropped:
            writer.writerow(record)
    buffer.seek(0)
    return buffer


# --------------------------------------------------------------------------- Parquet

def _read_parquet(path: Path, parts: list[Path], what: str) -> pd.DataFrame:
    """A Parquet file (``parts`` is ``[path]``), or a folder's parts stacked in name
    order (a column whose type differs between parts, say whole numbers in one and
    decimals in another, is widened to the type that holds both)."""
    part = path
    try:
        names = pq.read_schema(parts[0]).names
        dup = _duplicates(names)
        if dup:
            raise DataError(f"{what} '{path}': duplicate column names "
                            f"{_listing(dup)}; every column needs a unique name")
        tables = []
        for part in parts:
            tables.append(pq.read_table(part))
        part = path  # a failure from here on is about the parts together
        table = tables[0] if len(tables) == 1 else \
            pa.concat_tables(tables, promote_options="permissive")
        frame = table.to_pandas()
    except DataError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        where = f"'{path}'" if part == path else f"'{path}' (part '{part.name}')"
        raise DataError(f"{what} {where} is not a readable Parquet file "
                        f"({exc.__class__.__name__}: {one_line(exc, 200)})") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- Excel

def _read_excel(path: Path, what: str, sheet: str | None) -> TableFile:
    """A sheet of a workbook (``sheet``, else the first) through openpyxl."""
    try:
        import openpyxl  # noqa: F401 - pandas' reader of .xlsx, the excel extra
    except ImportError:
        raise DataError(f"{what} '{path}': reading an Excel workbook needs the excel "
                        f"extra ({EXCEL_EXTRA}); or save the sheet as CSV") from None
    try:
        with warnings.catch_warnings():
            # openpyxl warns of workbook features it does not read (styles, validation)
            warnings.simplefilter("ignore", UserWarning)
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(n) for n in book.sheet_names]
                if sheet is not None and sheet not in names:
                    raise DataError(f"{what} '{path.name}' has no sheet '{excerpt(sheet)}'; "
                                    f"its sheets: {_listing(names)} (population.sheet "
                                    "names one; unset: the first)")
                if not names:
                    raise DataError(f"{what} '{path}' has no sheet")
                chosen = sheet if sheet is not None else names[0]
                top = pd.read_excel(book, sheet_name=chosen, header=None, nrows=1)
                frame = pd.read_excel(book, sheet_name=chosen)
    except DataError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many types for a damaged file
        raise DataError(f"{what} '{path}' is not a readable Excel workbook "
                        f"({exc.__class__.__name__}: {one_line(exc, 200)})") from None
    header = [str(v).strip() for v in top.iloc[0].tolist()] if len(top) else []
    dup = _duplicates([h for h in header if h != "nan"])
    if dup:
        raise DataError(f"{what} '{path}' (sheet '{excerpt(chosen)}'): duplicate column "
                        f"names {_listing(dup)}; every column needs a unique name")
    frame.columns = [str(c).strip() for c in frame.columns]
    return TableFile(frame.reset_index(drop=True), "excel", sheet=chosen)
