"""Unfinished run folders: whose they are, whether their process lives, and their removal.

A run is written under ``runs/.incomplete-<id>-<pid>/`` and renamed into place when
finished (:mod:`scorelab.runs.writer`). SIGINT and SIGTERM remove that folder
(:mod:`scorelab.runs.interrupts`), but SIGKILL, a power cut or the out-of-memory
killer cannot be handled, so the folder stays. Each one therefore carries a small
owner file (pid, host, the process's start time, which tells a reused pid apart),
written as it is claimed. A folder whose owner is dead on this host is stale: the next
run into the same runs folder removes it, and ``scorelab runs --clean`` lists and
removes them. A folder of another host is never judged: its pid means nothing here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scorelab.core.jsonable import dumps

__all__ = ["INCOMPLETE_PREFIX", "OWNER_FILE", "RunEntry", "claim", "is_alive", "list_runs",
           "owner_of", "process_start", "remove_stale"]

INCOMPLETE_PREFIX = ".incomplete-"
#: The owner file inside an unfinished run folder; removed just before publishing.
OWNER_FILE = ".owner.json"


@dataclass(frozen=True)
class RunEntry:
    """One folder of a runs folder, as ``scorelab runs`` lists it."""

    name: str
    status: str  # the manifest's status, "no manifest", "unreadable manifest" or "unfinished"
    created: str
    size: int  # bytes
    pid: int | None = None  # unfinished folders only: the owner and whether it lives
    host: str | None = None
    alive: bool | None = None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (Linux), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot; Linux), which tells a reused pid apart."""
    stat = _proc_stat(pid)
    return stat[19] if stat and len(stat) > 19 else None


def claim(folder: Path) -> None:
    """Write the owner file of an unfinished run folder this process just created."""
    pid = os.getpid()
    owner = {"pid": pid, "host": socket.gethostname(), "process_start": process_start(pid),
             "started": datetime.now(UTC).isoformat(timespec="seconds")}
    (folder / OWNER_FILE).write_text(dumps(owner, indent=None))


def owner_of(folder: Path) -> dict[str, Any]:
    """The owner of an unfinished folder.

    Without a readable owner file (the process died between creating the folder and
    writing the file), the pid that ends the folder's name, on this host.
    """
    try:
        owner = json.loads((folder / OWNER_FILE).read_text())
        if isinstance(owner, dict) and isinstance(owner.get("pid"), int):
            return owner
    except (OSError, ValueError):
        pass
    pid = folder.name.rsplit("-", 1)[-1]
    return {"pid": int(pid) if pid.isdigit() else None, "host": socket.gethostname()}


def is_alive(owner: dict[str, Any]) -> bool | None:
    """Whether the owner process runs; None when it cannot be told (another host)."""
    if owner.get("host") != socket.gethostname():
        return None
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    stat = _proc_stat(pid)
    if stat is None:  # no /proc: the pid exists, which is all we can know
        return True
    started = owner.get("process_start")
    return stat[0] != "Z" and (started is None or stat[19] == started)


def _unfinished(runs_dir: Path) -> list[Path]:
    if not runs_dir.is_dir():
        return []
    return sorted(p for p in runs_dir.iterdir() if p.name.startswith(INCOMPLETE_PREFIX)
                  and p.is_dir() and not p.is_symlink())


def remove_stale(runs_dir: str | Path) -> list[Path]:
    """Remove the unfinished folders of dead processes (never a live or foreign one)."""
    removed = []
    for folder in _unfinished(Path(runs_dir)):
        if is_alive(owner_of(folder)) is False:
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.lstat().st_size if path.is_file() else 0
        except OSError:
            pass
    return total


def _modified(folder: Path) -> str:
    try:
        when = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
    except OSError:
        return "-"
    return when.isoformat(timespec="seconds")


def _published(folder: Path) -> RunEntry:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        status = str(manifest["status"]) if isinstance(manifest, dict) else "unreadable manifest"
        created = str(manifest.get("created", "-")) if isinstance(manifest, dict) else "-"
    except FileNotFoundError:
        status, created = "no manifest", _modified(folder)
    except (OSError, ValueError, KeyError):
        status, created = "unreadable manifest", _modified(folder)
    return RunEntry(folder.name, status, created, _size(folder))


def list_runs(runs_dir: str | Path) -> list[RunEntry]:
    """Every run folder (by name) and then every unfinished one with its owner."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = [_published(p) for p in sorted(runs_dir.iterdir())
            if p.is_dir() and not p.name.startswith(".")]
    for folder in _unfinished(runs_dir):
        owner = owner_of(folder)
        runs.append(RunEntry(folder.name, "unfinished", str(owner.get("started") or
                                                             _modified(folder)),
                             _size(folder), owner.get("pid"), owner.get("host"),
                             is_alive(owner)))
    return runs
