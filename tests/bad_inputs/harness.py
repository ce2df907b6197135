"""What every bad-input test checks of a refused command: exit 1, no traceback, one line
matching the case's regex, and nothing written or touched on disk."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

STAGE_LINE = re.compile(r"^\w+: \d+\.\d s$")  # `run` reports each stage's time when piped
#: An error line is short: user text is quoted as an excerpt, lists are cut.
MAX_LINE = 1200


def cases(path: Path) -> list[tuple[str, str]]:
    """(file, regex) pairs of a corpus's expected-message file."""
    return sorted(yaml.safe_load(path.read_text()).items())


def error_line(result: Any, pattern: str) -> str:
    """The one error line of a refused command, checked against ``pattern``."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not STAGE_LINE.match(line.strip())]
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) <= MAX_LINE, lines[0][:200]
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash: a change anywhere shows."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def earlier_run(runs_dir: Path) -> Path:
    """A published run already in ``runs_dir``, which no failed command may touch."""
    run = runs_dir / "20260101-000000-earlier-0123456789"
    (run / "models" / "m").mkdir(parents=True)
    (run / "manifest.json").write_text('{"status": "complete"}\n')
    (run / "predictions.parquet").write_bytes(b"PAR1 earlier PAR1")
    (run / "models" / "m" / "final.skops").write_bytes(b"earlier model")
    return run
