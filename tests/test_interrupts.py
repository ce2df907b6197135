"""SIGINT, SIGTERM and SIGKILL at several moments of a real ``scorelab run``.

Each case starts the command line in a subprocess on a tiny study, waits for its
moment (read from the stage lines it prints on standard error when piped, from the
unfinished folder appearing, or from its worker processes), sends the signal and
checks: the process ends within a few seconds with 130 (SIGINT) or 143 (SIGTERM) and
one line, nothing that looks finished is left (no new folder at all), its worker
processes are gone, and the earlier run in the same runs folder is byte for byte
untouched. SIGKILL cannot be handled: its unfinished folder is removed by the next run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.study.runner import TimeLimitError, _time_limit, run
from tests.conftest import make_config

pytestmark = [pytest.mark.heavy,  # runs studies: not in `make check`
              pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="worker processes are found through /proc")]

#: Measured stops take 1-2 s (most of it the interpreter's exit); a loaded machine is slower.
STOP_SECONDS = 10.0
MOMENT_TIMEOUT = 180.0
runner = CliRunner()

EVALUATION = {"folds": 2, "bootstrap": 0, "n_jobs": 1}
SMALL = {"explain": {"sample_size": 30, "agnostic_sample_size": 10, "background_size": 10,
                     "max_evals": 30},
         "fairness": {"bootstrap": 0}, "output": {"save_models": "folds"}}
CHEAP = [{"family": "expert", "name": "suining", "kind": "suining"},
         {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
          "params": {"n_estimators": 20}}]
SCORECARD = [{"family": "logit", "name": "scorecard", "kind": "scorecard"}]


#: Explanations that last seconds (the model-agnostic explainer of a neural model), so a
#: signal sent once the metrics are done lands inside them even on a loaded machine.
SLOW_EXPLAIN = {"sample_size": 200, "agnostic_sample_size": 150, "background_size": 50,
                "max_evals": 400}
NEURAL = [{"family": "neural", "name": "mlp", "kind": "mlp"}]


def _config(tmp_path: Path, models: list, n: int = 1500, explain: dict | None = None,
            **evaluation: int) -> Path:
    raw = {"name": "interrupted", "seed": 3, "population": {"n_citizens": n},
           "models": models, "evaluation": {**EVALUATION, **evaluation}, **SMALL}
    if explain is not None:
        raw["explain"] = explain
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run, copied into each test's runs folder as the earlier run (any
    complete run: a small one, without the explanations and the audit)."""
    cfg = make_config({"name": "earlier", "models": CHEAP, "evaluation": EVALUATION, **SMALL,
                       "explain": {"enabled": False}, "fairness": {"enabled": False},
                       "report": {"formats": ["md"]}}, n=600, seed=3)
    result = run(cfg, runs_dir=tmp_path_factory.mktemp("earlier"))
    assert result.run_dir is not None
    return result.run_dir


@pytest.fixture
def runs(tmp_path: Path, earlier: Path) -> Path:
    runs = tmp_path / "runs"
    shutil.copytree(earlier, runs / earlier.name)
    return runs


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text()
                                            .rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError):
            pass
    return found


class Run:
    """``scorelab run`` in a subprocess; standard error is read as it comes."""

    def __init__(self, config: Path, runs: Path) -> None:
        self.runs = runs
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scorelab.cli.commands", "run", str(config), "--runs-dir", str(runs)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with self.proc.stderr:
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))

    def stage_done(self, stage: str) -> bool:
        return any(line.startswith(f"{stage}: ") for line in self.lines)

    def wait_for(self, moment: Callable[[], bool]) -> None:
        deadline = time.monotonic() + MOMENT_TIMEOUT
        while not moment():
            assert self.proc.poll() is None, f"the run ended first: {self.lines}"
            assert time.monotonic() < deadline, f"the moment never came: {self.lines}"
            time.sleep(0.02)

    def unfinished(self) -> list[Path]:
        return sorted(self.runs.glob(".incomplete-*"))

    def stop(self, signum: int) -> tuple[int, float, list[int]]:
        """Send ``signum``; return the exit code, seconds to stop, and the workers then."""
        workers = _children(self.proc.pid)
        start = time.monotonic()
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            self.proc.kill()
        took = time.monotonic() - start
        self.reader.join(STOP_SECONDS)  # its last lines (the pipe closes with the workers)
        return code, took, workers


def _workers(pid: int) -> list[int]:
    """The loky worker processes of ``pid``."""
    return [child for child in _children(pid)
            if b"popen_loky" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _workers_gone(workers: list[int]) -> bool:
    """Each worker of the stopped run ends too (within a few seconds; orphans are reaped)."""
    deadline = time.monotonic() + STOP_SECONDS
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(_alive(pid) for pid in workers)


def _check_stopped(job: Run, signum: int, earlier: Path, before: dict[str, str]) -> None:
    code, took, workers = job.stop(signum)
    assert code == 128 + signum, job.lines
    assert took < STOP_SECONDS, f"stopped after {took:.1f} s"
    message = [line for line in job.lines if line.startswith("interrupted by")]
    assert message == [f"interrupted by {signal.Signals(signum).name}: the run stopped and "
                       "left nothing behind"], job.lines
    assert not any("Traceback" in line for line in job.lines), job.lines
    assert sorted(p.name for p in job.runs.iterdir()) == [earlier.name]
    assert _hashes(earlier) == before
    assert _workers_gone(workers)


def test_signal_while_importing_stops_and_leaves_nothing(tmp_path: Path, runs: Path,
                                                         earlier: Path) -> None:
    """Before the command runs (Python imports scorelab) nothing is written yet."""
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, CHEAP), runs)
    time.sleep(0.3)
    code, took, _ = job.stop(signal.SIGTERM)
    assert code in (143, -signal.SIGTERM) and took < STOP_SECONDS
    assert sorted(p.name for p in runs.iterdir()) == [earlier.name]
    assert _hashes(runs / earlier.name) == before


def test_sigterm_right_after_the_run_starts(tmp_path: Path, runs: Path, earlier: Path) -> None:
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, CHEAP), runs)
    job.wait_for(lambda: bool(job.unfinished()))
    _check_stopped(job, signal.SIGTERM, runs / earlier.name, before)


def test_sigint_during_scorecard_binning(tmp_path: Path, runs: Path, earlier: Path) -> None:
    """OR-tools' CP-SAT, which bins the scorecard, must not swallow Ctrl-C or kill the run."""
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, SCORECARD, n=2000, folds=3), runs)
    job.wait_for(lambda: job.stage_done("splits"))
    time.sleep(0.7)  # several variables binned, each by a CP-SAT solve
    _check_stopped(job, signal.SIGINT, runs / earlier.name, before)
    assert not job.stage_done("fit_predict"), "the signal came after the fitting"


def test_sigterm_while_workers_fit_later_models(tmp_path: Path, runs: Path,
                                                earlier: Path) -> None:
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, [*CHEAP, *SCORECARD], n=2000, folds=3, n_jobs=2), runs)
    job.wait_for(lambda: job.stage_done("splits") and bool(_workers(job.proc.pid)))
    time.sleep(0.5)
    _check_stopped(job, signal.SIGTERM, runs / earlier.name, before)
    assert not job.stage_done("fit_predict"), "the signal came after the fitting"


def test_sigint_during_explanations(tmp_path: Path, runs: Path, earlier: Path) -> None:
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, NEURAL, explain=SLOW_EXPLAIN), runs)
    job.wait_for(lambda: job.stage_done("metrics"))
    _check_stopped(job, signal.SIGINT, runs / earlier.name, before)
    assert not job.stage_done("explanations"), "the signal came after the explanations"


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("stage", ["generate", "fit_predict", "explanations", "fairness",
                                   "write"])
def test_signal_after_each_stage(tmp_path: Path, runs: Path, earlier: Path, stage: str,
                                 signum: int) -> None:
    """After 'write' the report is being rendered in the unpublished folder."""
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, [*CHEAP, *SCORECARD], n_jobs=2), runs)
    job.wait_for(lambda: job.stage_done(stage))
    _check_stopped(job, signum, runs / earlier.name, before)


def test_sigkill_leaves_a_folder_the_next_run_removes(tmp_path: Path, runs: Path,
                                                      earlier: Path) -> None:
    before = _hashes(runs / earlier.name)
    job = Run(_config(tmp_path, [*CHEAP, *SCORECARD], n=2000, folds=3, n_jobs=2), runs)
    job.wait_for(lambda: job.stage_done("splits") and bool(_workers(job.proc.pid)))
    time.sleep(1.0)  # the reaper learns of new workers within 0.2 s
    code, _, workers = job.stop(signal.SIGKILL)
    try:
        assert _workers_gone(workers)  # the reaper kills the orphaned loky workers
    finally:
        for pid in filter(_alive, workers):
            os.kill(pid, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert len(job.unfinished()) == 1  # cannot be handled: the next run removes it
    listed = runner.invoke(app, ["runs", str(runs)])
    assert "is dead (--clean removes it)" in listed.stdout, listed.output
    cfg = make_config({"name": "next", "models": CHEAP[:1], "evaluation": EVALUATION,
                       **SMALL, "explain": {"enabled": False},
                       "fairness": {"enabled": False}}, n=800, seed=3)
    after = run(cfg, runs_dir=runs).run_dir
    assert after is not None
    assert sorted(p.name for p in runs.iterdir()) == sorted([earlier.name, after.name])
    assert _hashes(runs / earlier.name) == before


def _wait_until_in_native_sleep(pid: int) -> None:
    """Wait until the process's main thread is inside its native sleep.

    Its "ready" comes from Python just before the call: a signal sent in between is
    handled by Python (the soft stop), which is not what the test is about. The sleep's
    system call number is learnt from a thread of ours sleeping the same way.
    """
    sleeper = threading.Thread(target=time.sleep, args=(1.0,))
    sleeper.start()
    time.sleep(0.2)
    sleeping = Path(f"/proc/self/task/{sleeper.native_id}/syscall").read_text().split()[0]
    sleeper.join()
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pid}/syscall").read_text().split()[0] != sleeping:
        assert time.monotonic() < deadline, "the child never reached its native sleep"
        time.sleep(0.01)


def test_a_main_thread_stuck_in_native_code_is_stopped_hard(tmp_path: Path) -> None:
    """The watcher cleans up and exits when the main thread cannot raise in time."""
    script = tmp_path / "stuck.py"
    script.write_text(
        "import ctypes, signal, sys\n"
        "from pathlib import Path\n"
        "from scorelab.runs.interrupts import stop_on_signals\n"
        "from scorelab.runs.writer import RunWriter\n"
        "with stop_on_signals(grace=1.0) as guard:\n"
        "    writer = RunWriter(Path(sys.argv[1]), 'stuck')\n"
        "    guard.cleanups.append(writer.discard)\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})\n"
        "    print('ready', flush=True)\n"
        "    ctypes.CDLL(None).sleep(60)  # native, deaf to signals, GIL released\n")
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, str(script), str(runs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    _wait_until_in_native_sleep(proc.pid)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130 and time.monotonic() - start < 1.0 + STOP_SECONDS, err
    assert "interrupted by SIGINT" in err
    assert not runs.exists()


def test_max_minutes_stops_the_run_with_one_line(tmp_path: Path) -> None:
    path = _config(tmp_path, CHEAP)
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()),
                                    "run": {"max_minutes": 1e-6}}))
    result = runner.invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "run.max_minutes" in errors[0], result.stderr
    assert "stopped after stage 'generate'" in errors[0]
    assert not (tmp_path / "runs").exists()


def test_max_minutes_is_checked_between_fold_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr("scorelab.study.runner.time.monotonic", lambda: now[0])
    seen: list[tuple[int, int]] = []
    on_stage, progress = _time_limit(make_config({"run": {"max_minutes": 1}}, n=100),
                                     None, lambda done, total: seen.append((done, total)))
    assert on_stage is not None and progress is not None
    progress(1, 10)
    on_stage("splits", 0.0)
    now[0] = 61.0
    with pytest.raises(TimeLimitError, match=r"run.max_minutes: .* after 2 of 10 fold fits"):
        progress(2, 10)
    assert seen == [(1, 10), (2, 10)]
    assert _time_limit(make_config(n=100), None, None) == (None, None)


def test_a_signal_a_library_turned_into_its_own_error_still_exits_as_the_signal() -> None:
    """A signal landing inside a library that catches everything (pydantic building a
    schema) comes out as that library's error, raised while handling the Interrupted:
    the command still says it was interrupted and exits 128 + the signal's number."""
    import typer

    from scorelab.cli.commands import _stops_on_signals
    from scorelab.runs.interrupts import Interrupted

    @_stops_on_signals
    def command() -> None:
        try:
            raise Interrupted(signal.SIGTERM)
        except Interrupted:
            raise RuntimeError("schema generation failed")  # noqa: B904 - as a library does

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert stopped.value.exit_code == 128 + signal.SIGTERM

    @_stops_on_signals
    def failing() -> None:
        raise RuntimeError("a plain error")

    with pytest.raises(RuntimeError, match="a plain error"):
        failing()
