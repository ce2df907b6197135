"""The one writer of run directories: every artifact validated, then published atomically.

A run is written into ``runs/.incomplete-<id>-<pid>/`` and renamed to ``runs/<id>/``
only when every artifact is there (the manifest, written last, says
``status: complete``), so a crashed or interrupted run never leaves a directory that
looks finished, and an existing run is never touched. Every JSON artifact is checked
against its model in :mod:`scorelab.runs.contract` before it is written. The unfinished
folder carries its owner (:mod:`scorelab.runs.housekeeping`), so that one left by a
killed process is recognised and removed by the next run into the same runs folder.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.core import progress
from scorelab.core.jsonable import dumps, jsonable
from scorelab.exceptions import OutputError
from scorelab.runs.contract import JSON_ARTIFACTS, PARQUET_ARTIFACTS
from scorelab.runs.housekeeping import INCOMPLETE_PREFIX, OWNER_FILE, claim, remove_stale

TRACKED_PACKAGES = ("scorelab", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy",
                    "lightgbm", "optbinning", "pydantic", "joblib", "skops", "fairlearn",
                    "shap")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour shapes the numbers."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A content hash of a table (values and column names), independent of file encoding."""
    digest = hashlib.sha256()
    digest.update(dumps([str(c) for c in frame.columns], indent=None).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def run_id(name: str, config_hash: str, now: datetime | None = None) -> str:
    """``<timestamp>-<name>-<hash>``: sortable by time, readable, tied to the config."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{name}-{config_hash[:8]}"


class Stopwatch:
    """Wall time per named stage, for the manifest, the benchmark and piped output.

    ``on_stage(name, seconds)`` is called as each stage completes (the CLI prints one
    line per stage when its output is not a terminal); a failed stage is not reported.
    """

    def __init__(self, on_stage: Callable[[str, float], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        progress.begin(name)  # the command line's bar for this stage, if it shows one
        start = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - start
            self.seconds[name] = round(self.seconds.get(name, 0.0) + took, 4)
        progress.end(name, took)
        if self.on_stage is not None:
            self.on_stage(name, took)


class RunWriter:
    """Collects artifacts in a hidden temporary folder and publishes it atomically."""

    def __init__(self, runs_dir: Path, run_name: str) -> None:
        self.runs_dir = Path(runs_dir)
        # The folders this run creates; removed again if it fails (no empty runs/ left).
        self.created = [p for p in (self.runs_dir, *self.runs_dir.parents) if not p.exists()]
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create runs folder '{runs_dir}': {exc.strerror}") from None
        if not os.access(self.runs_dir, os.W_OK):
            raise OutputError(f"runs folder '{runs_dir}' is not writable")
        remove_stale(self.runs_dir)
        final = self.runs_dir / run_name
        suffix = 1
        while final.exists():  # two runs in the same second: never overwrite
            suffix += 1
            final = self.runs_dir / f"{run_name}-{suffix}"
        self.final = final
        self.tmp = self.runs_dir / f"{INCOMPLETE_PREFIX}{final.name}-{os.getpid()}"
        self.tmp.mkdir()
        try:
            claim(self.tmp)
        except OSError as exc:
            self.discard()
            raise OutputError(f"cannot write in runs folder '{runs_dir}': {exc.strerror}") from None
        except BaseException:  # a signal while claiming: the folder never looks owned
            self.discard()
            raise

    def path(self, name: str) -> Path:
        """Where artifact ``name`` (a relative path) goes; its folder is created."""
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write_json(self, name: str, payload: Any) -> None:
        """Write a JSON artifact; one the contract names is validated against its model."""
        data = jsonable(payload.model_dump(mode="json") if hasattr(payload, "model_dump")
                        else payload)
        model = JSON_ARTIFACTS.get(name)
        if model is not None:
            data = model.model_validate(data).model_dump(mode="json", exclude_unset=True)
        self.path(name).write_text(dumps(data))

    def write_text(self, name: str, text: str) -> None:
        self.path(name).write_text(text)

    def write_parquet(self, name: str, frame: pd.DataFrame) -> None:
        """Write a Parquet artifact; the contract's required columns must be there."""
        required = PARQUET_ARTIFACTS.get(name, ({}, {}))[0]
        missing = [c for c in required if c not in frame.columns]
        if missing:  # a bug in a stage, not a user mistake
            raise AssertionError(f"{name}: the stage did not write column(s) {missing}")
        frame.to_parquet(self.path(name), index=False, compression="zstd")

    def files(self) -> list[str]:
        """Every file written so far, as paths relative to the run folder."""
        return sorted(p.relative_to(self.tmp).as_posix() for p in self.tmp.rglob("*")
                      if p.is_file() and p != self.tmp / OWNER_FILE)

    def publish(self) -> Path:
        """Rename the finished folder into place; return its final path."""
        (self.tmp / OWNER_FILE).unlink(missing_ok=True)
        os.replace(self.tmp, self.final)
        return self.final

    def discard(self) -> None:
        """Remove the unfinished folder, and the runs folder if this run created it."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        for folder in self.created:  # deepest first; only while empty
            try:
                folder.rmdir()
            except OSError:
                break


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
