"""Reading and writing populations: Parquet with the schema in its metadata.

Writes are atomic and never overwrite without ``force``: every file goes to a
temporary name in the target folder first and is renamed only when all are written.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scorelab.core.jsonable import dumps
from scorelab.data.schema import SCHEMA_METADATA_KEY, Schema
from scorelab.data.synthetic import Population
from scorelab.exceptions import DataError, OutputError

META_KEY = b"scorelab.meta"


def population_paths(path: Path) -> tuple[Path, Path, Path]:
    """The Parquet file and its data card (JSON, Markdown) for an output ``path``."""
    if path.suffix != ".parquet":
        raise OutputError(f"output path '{path}' must end in .parquet")
    stem = path.with_suffix("")
    return path, stem.with_name(stem.name + ".card.json"), stem.with_name(stem.name + ".card.md")


def population_bytes(pop: Population) -> bytes:
    """The Parquet encoding of a population (deterministic for the same frame)."""
    table = pa.Table.from_pandas(pop.frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[SCHEMA_METADATA_KEY] = pop.schema.to_json().encode()
    metadata[META_KEY] = dumps(pop.meta, indent=None, sort_keys=True).encode()
    table = table.replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def check_writable(paths: list[Path], force: bool) -> None:
    """Refuse existing outputs (unless ``force``) and folders that cannot be written."""
    for path in paths:
        if path.is_dir():
            raise OutputError(f"output path '{path}' is a directory; give a file path")
        if path.exists() and not force:
            raise OutputError(f"output file '{path}' already exists; use --force to overwrite it")
    for parent in {p.parent for p in paths}:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create output folder '{parent}': {exc.strerror}") from None
        if not os.access(parent, os.W_OK):
            raise OutputError(f"output folder '{parent}' is not writable")


def write_atomically(files: Mapping[Path, bytes], force: bool = False) -> None:
    """Write every file under a temporary name, then rename them all into place."""
    paths = list(files)
    check_writable(paths, force)
    temps: list[tuple[Path, Path]] = []
    try:
        for path, payload in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be shared
            temps.append((Path(tmp), path))
        for tmp, path in temps:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write '{exc.filename}': {exc.strerror}") from None


def write_population(pop: Population, path: str | Path, card: Mapping[str, object],
                     card_markdown: str, force: bool = False) -> list[Path]:
    """Write the population as Parquet with its data card beside it; return the paths."""
    path, card_json, card_md = population_paths(Path(path))
    files = {
        path: population_bytes(pop),
        card_json: dumps(card).encode(),
        card_md: card_markdown.encode(),
    }
    write_atomically(files, force=force)
    return list(files)


def read_population(path: str | Path) -> Population:
    """Read a population written by :func:`write_population`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"population file '{path}' not found")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"'{path}' is not a readable Parquet file ({exc})") from None
    metadata = table.schema.metadata or {}
    if SCHEMA_METADATA_KEY not in metadata:
        raise DataError(f"'{path}' has no scorelab schema in its metadata; "
                        "was it written by 'scorelab generate'?")
    try:
        schema = Schema.from_json(metadata[SCHEMA_METADATA_KEY].decode())
        meta = json.loads(metadata.get(META_KEY, b"{}").decode())
    except (ValueError, TypeError, KeyError) as exc:  # a damaged or foreign metadata block
        raise DataError(f"'{path}': its scorelab metadata is damaged "
                        f"({type(exc).__name__}); write it again with 'scorelab generate'"
                        ) from None
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise DataError(f"'{path}': column(s) {', '.join(missing[:8])} of its schema are "
                        "missing; write it again with 'scorelab generate'")
    frame: pd.DataFrame = table.to_pandas()
    return Population(frame, schema, meta)
