"""The runs folder as the server sees it: which runs there are, and each run loaded once.

A run is found by its folder name among the entries of the runs folder, never by joining
a requested path: a name that is not one of them (``..``, an encoded slash, an absolute
path, a symlink that leads out of the folder) is simply not found. A loaded run is
kept until its manifest changes; a damaged run is listed with the one line
:func:`scorelab.runs.load_run` gives, and the other runs keep working.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.exceptions import DataError, ScorelabError
from scorelab.runs.housekeeping import INCOMPLETE_PREFIX
from scorelab.runs.reader import RunData, load_run

__all__ = ["NotFound", "RunSummary", "RunsFolder"]

#: Runs kept loaded at once (a run's predictions and metrics; its population is not kept).
LOADED_RUNS = 8


class NotFound(LookupError):
    """A run, citizen, model or file that does not exist: the page says which."""


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table."""

    run_id: str
    status: str  # complete | unfinished | damaged | ...
    created: str
    data: str
    best_model: str | None = None
    best_auc: float | None = None
    failing_four_fifths: int | None = None
    n_models: int | None = None
    problem: str | None = None  # the one-line reason a run cannot be opened

    @property
    def usable(self) -> bool:
        return self.problem is None


def _inside(path: Path, root: Path) -> bool:
    """``path`` resolves (symlinks followed) to ``root`` or below it."""
    try:
        path.resolve(strict=True).relative_to(root)
    except (OSError, ValueError):
        return False
    return True


class RunsFolder:
    """The run directories directly under ``root``, looked up by folder name only."""

    def __init__(self, root: str | Path) -> None:
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"runs folder '{root}' does not exist (give the folder "
                            "'scorelab run' writes into, e.g. runs/)")
        self.root = root.resolve()
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, tuple[float, RunData]] = OrderedDict()
        self._failed: dict[str, tuple[float, str]] = {}
        self._rows: dict[str, tuple[float, RunSummary]] = {}  # the table's rows, kept

    # ------------------------------------------------------------------ lookup
    def folders(self) -> dict[str, Path]:
        """Folder name -> path of every entry that stays inside the runs folder."""
        out = {}
        for path in sorted(self.root.iterdir()):
            hidden = path.name.startswith(".") and not path.name.startswith(INCOMPLETE_PREFIX)
            if not hidden and path.is_dir() and _inside(path, self.root):
                out[path.name] = path
        return out

    def folder(self, run_id: str) -> Path:
        """The folder of run ``run_id`` (NotFound: no such run in this folder)."""
        found = self.folders().get(run_id)
        if found is None:
            raise NotFound(f"no run '{run_id}' in the runs folder '{self.root}'")
        return found

    def run(self, run_id: str) -> RunData:
        """Run ``run_id`` loaded and validated (NotFound, or a DataError naming the file)."""
        folder = self.folder(run_id)
        stamp = _stamp(folder)
        with self._lock:
            kept = self._loaded.get(run_id)
            if kept is not None and kept[0] == stamp:
                self._loaded.move_to_end(run_id)
                return kept[1]
            failed = self._failed.get(run_id)
            if failed is not None and failed[0] == stamp:
                raise DataError(failed[1])
        try:
            data = load_run(folder)
        except ScorelabError as exc:
            with self._lock:
                self._failed[run_id] = (stamp, str(exc))
            raise
        except Exception as exc:  # noqa: BLE001 - a file no contract check foresaw: one line
            message = f"run directory '{folder}' cannot be read ({type(exc).__name__}: {exc})"
            with self._lock:
                self._failed[run_id] = (stamp, message)
            raise DataError(message) from None
        with self._lock:
            self._loaded[run_id] = (stamp, data)
            while len(self._loaded) > LOADED_RUNS:
                self._loaded.popitem(last=False)
        return data

    def file(self, run_id: str, relative: str) -> Path:
        """A file of run ``run_id`` its manifest lists (or one of its report files),
        resolved inside the run folder; anything else is NotFound."""
        folder = self.folder(run_id)
        listed = set(_manifest(folder).get("artifacts") or [])
        listed |= {"report.html", "report.md", "report.json", "manifest.json"}
        path = folder / relative
        if relative not in listed or not path.is_file() or not _inside(path, folder.resolve()):
            raise NotFound(f"no file '{relative}' in run '{run_id}' (the files a run "
                           "serves are those its manifest lists)")
        return path

    # ------------------------------------------------------------------ listing
    def summaries(self) -> list[RunSummary]:
        """Every run of the folder, newest first; damaged ones with their reason."""
        rows = [self._summary(name, path) for name, path in self.folders().items()]
        return sorted(rows, key=lambda r: (r.created, r.run_id), reverse=True)

    def _summary(self, name: str, path: Path) -> RunSummary:
        """A run's row, kept until its manifest changes (a folder of many runs is
        validated once, not on every visit to the table)."""
        stamp = _stamp(path)
        kept = self._rows.get(name)
        if kept is not None and kept[0] == stamp and stamp != -1.0:
            return kept[1]
        row = self._new_summary(name, path)
        with self._lock:
            self._rows[name] = (stamp, row)
        return row

    def _new_summary(self, name: str, path: Path) -> RunSummary:
        if name.startswith(INCOMPLETE_PREFIX):
            return RunSummary(name, "unfinished", "", "", problem="unfinished: its run "
                              "crashed, was interrupted or is still running")
        manifest = _manifest(path)
        created = str(manifest.get("created") or "")
        try:
            run = self.run(name)
        except ScorelabError as exc:
            return RunSummary(name, "damaged" if manifest else "not a run", created, "",
                              problem=str(exc))
        pop = run.study.population
        data = (f"{pop.n_citizens:,} synthetic citizens" if pop.source == "synthetic"
                else f"{pop.n_citizens:,} rows of {Path(pop.table).name if pop.table else 'a table'}")
        best = run.model_names[0] if run.model_names else None
        auc = None
        if best is not None:
            value = run.leaderboard.iloc[0].get("auc")
            auc = float(value) if pd.notna(value) else None
        return RunSummary(name, str(run.manifest.get("status", "complete")), created, data,
                          best, auc, _failing(run), len(run.model_names))


def _failing(run: RunData) -> int | None:
    """How many models fail the four-fifths rule on some audited attribute (None: no
    fairness audit)."""
    if run.fairness is None:
        return None
    failing = 0
    for entry in run.fairness["models"].values():
        if any(d.get("four_fifths_verdict") == "fail" and d.get("outcome") == "observed"
               for d in entry.get("disparities") or []):
            failing += 1
    return failing


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        value = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _stamp(folder: Path) -> float:
    """When the run's manifest last changed (a copied-over run is loaded again)."""
    try:
        return (folder / "manifest.json").stat().st_mtime_ns
    except OSError:
        return -1.0
