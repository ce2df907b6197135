"""Unfinished run folders: owner file, liveness, stale removal, ``scorelab runs``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.runs.housekeeping import (
    INCOMPLETE_PREFIX,
    OWNER_FILE,
    claim,
    is_alive,
    list_runs,
    owner_of,
    remove_stale,
)
from scorelab.runs.writer import RunWriter

runner = CliRunner()


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _unfinished(runs: Path, name: str, owner: dict | None) -> Path:
    folder = runs / f"{INCOMPLETE_PREFIX}{name}"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "half.skops").write_bytes(b"x" * 10)
    if owner is not None:
        (folder / OWNER_FILE).write_text(json.dumps(owner))
    return folder


def _published(runs: Path, name: str, status: str = "complete") -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"status": status,
                                                      "created": "2026-12-01T10:00:00+00:00"}))
    return folder


def test_the_owner_file_names_this_process(tmp_path: Path) -> None:
    claim(tmp_path)
    owner = owner_of(tmp_path)
    assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
    assert is_alive(owner) is True


def test_a_dead_reused_or_foreign_owner(dead_pid: int) -> None:
    here = socket.gethostname()
    assert is_alive({"pid": dead_pid, "host": here}) is False
    assert is_alive({"pid": None, "host": here}) is False
    assert is_alive({"pid": os.getpid(), "host": "elsewhere.example"}) is None
    if Path("/proc/self/stat").exists():  # a live pid that started after the owner: reused
        assert is_alive({"pid": os.getpid(), "host": here, "process_start": "1"}) is False


def test_without_an_owner_file_the_pid_in_the_name_counts(tmp_path: Path,
                                                          dead_pid: int) -> None:
    mine = _unfinished(tmp_path, f"20261201-100000-a-0123456789-{os.getpid()}", None)
    dead = _unfinished(tmp_path, f"20261201-100000-b-0123456789-{dead_pid}", None)
    assert owner_of(mine)["pid"] == os.getpid()
    assert remove_stale(tmp_path) == [dead]
    assert mine.exists() and not dead.exists()


def test_only_the_folders_of_dead_processes_are_removed(tmp_path: Path, dead_pid: int) -> None:
    here = socket.gethostname()
    run = _published(tmp_path, "20261201-100000-done-0123456789")
    live = _unfinished(tmp_path, "live-1", {"pid": os.getpid(), "host": here})
    dead = _unfinished(tmp_path, "dead-2", {"pid": dead_pid, "host": here})
    foreign = _unfinished(tmp_path, "foreign-3", {"pid": dead_pid, "host": "elsewhere.example"})
    assert remove_stale(tmp_path) == [dead]
    assert run.exists() and live.exists() and foreign.exists() and not dead.exists()


def test_list_runs(tmp_path: Path, dead_pid: int) -> None:
    _published(tmp_path, "b-run")
    _published(tmp_path, "a-run", status="odd")
    (tmp_path / "c-empty").mkdir()
    _unfinished(tmp_path, "x-1", {"pid": dead_pid, "host": socket.gethostname()})
    runs = list_runs(tmp_path)
    assert [(r.name, r.status) for r in runs] == [
        ("a-run", "odd"), ("b-run", "complete"), ("c-empty", "no manifest"),
        (f"{INCOMPLETE_PREFIX}x-1", "unfinished")]
    assert runs[-1].alive is False and runs[-1].pid == dead_pid and runs[-1].size >= 10
    assert list_runs(tmp_path / "nowhere") == []


def test_the_writer_claims_publishes_without_the_owner_and_removes_stale(tmp_path: Path,
                                                                         dead_pid: int) -> None:
    runs = tmp_path / "runs"
    stale = _unfinished(runs, "old-9", {"pid": dead_pid, "host": socket.gethostname()})
    writer = RunWriter(runs, "new")
    assert not stale.exists()
    assert owner_of(writer.tmp)["pid"] == os.getpid()
    writer.write_text("config.resolved.yaml", "name: x\n")
    assert writer.files() == ["config.resolved.yaml"]
    final = writer.publish()
    assert sorted(p.name for p in final.iterdir()) == ["config.resolved.yaml"]


def test_a_failed_run_leaves_no_runs_folder_it_created(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path / "a" / "runs", "x")
    writer.discard()
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "kept").mkdir()
    writer = RunWriter(tmp_path / "kept", "x")
    writer.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]
    assert list((tmp_path / "kept").iterdir()) == []


def test_runs_command_lists_and_cleans(tmp_path: Path, dead_pid: int) -> None:
    here = socket.gethostname()
    _published(tmp_path, "20261201-100000-done-[x]")
    live = _unfinished(tmp_path, "live-1", {"pid": os.getpid(), "host": here})
    dead = _unfinished(tmp_path, "dead-2", {"pid": dead_pid, "host": here})
    listed = runner.invoke(app, ["runs", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert "20261201-100000-done-[x]" in listed.stdout and "complete" in listed.stdout
    assert f"running (pid {os.getpid()})" in listed.stdout
    assert f"process {dead_pid} is dead" in listed.stdout
    assert dead.exists()  # listing never removes
    cleaned = runner.invoke(app, ["runs", str(tmp_path), "--clean"])
    assert cleaned.exit_code == 0, cleaned.output
    assert f"removed {dead.name}" in cleaned.stdout
    assert live.exists() and not dead.exists()


def test_runs_command_on_a_missing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "Traceback" not in result.output
