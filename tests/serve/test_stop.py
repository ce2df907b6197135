"""``scorelab serve`` as a command: one line to start, Ctrl-C stops it within 2 seconds
with one line, and a runs folder that does not exist is one error line."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorelab.cli.commands import app


def test_missing_runs_folder_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "runs folder" in lines[0] and "does not exist" in lines[0]


@pytest.mark.heavy
def test_ctrl_c_stops_within_two_seconds_with_one_line(runs_dir: Path, run_id: str) -> None:
    """Even with an idle kept-alive connection and a request still running."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "scorelab", "serve", str(runs_dir),
                             "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()  # printed once the server answers
        assert ready.startswith(f"scorelab serve: http://127.0.0.1:{port}/"), ready
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # kept alive
        idle.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert idle.recv(64).startswith(b"HTTP/1.1 200")
        busy = socket.create_connection(("127.0.0.1", port), timeout=5)  # still rendering
        busy.sendall(f"GET /runs/{run_id}/report HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                     .encode())
        time.sleep(0.5)
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        took = time.monotonic() - start
        idle.close()
        busy.close()
        rest = proc.stdout.read().splitlines()
        errors = proc.stderr.read().strip()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert took < 2.0, f"Ctrl-C took {took:.2f} s"
    assert rest == ["scorelab serve: stopped"]
    assert errors == ""
    assert proc.returncode == 0
