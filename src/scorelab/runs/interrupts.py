"""SIGINT and SIGTERM stop a run within seconds, whatever native code is running.

While a run is guarded, both signals raise :class:`Interrupted` in the main thread,
which removes the unfinished run folder as any failure does (and joblib kills its
workers). Two things could defeat that, and are dealt with here:

- OR-tools' CP-SAT solver (which optbinning uses to bin the scorecard's variables)
  installs its own SIGINT handler for each solve, which swallows Ctrl-C, and resets
  SIGINT to the default action afterwards, which kills the process without clean-up.
  While guarded, its ``catch_sigint_signal`` parameter is turned off.
- Python raises only when the main thread runs Python code again, which a long native
  call (a fit, a solve) may delay. A watcher thread learns of each signal through
  :func:`signal.set_wakeup_fd`; if the main thread has not stopped ``grace`` seconds
  later, or a second signal comes, the watcher runs the guard's clean-ups itself, kills
  the worker processes and exits (the command line only: a notebook kernel must live).

SIGKILL (or the out-of-memory killer) cannot be handled, and loky's orphaned workers
would live on (seen alive 20 minutes later). So the command line also starts a tiny
reaper process: the watcher tells it the workers' pids every 0.2 s (a worker started
in the last 0.2 s before the kill is missed), and when the run's process ends without
saying "done" (its pipe closes), the reaper kills those still running. The unfinished
folder is left to the next run (:mod:`scorelab.runs.housekeeping`).
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from scorelab.runs.housekeeping import process_start

__all__ = ["Guard", "Interrupted", "stop_on_signals"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: The reaper: reads "pid start-time" lines; at end of input without "done", kills them.
_REAPER = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the run's to handle
workers = {}
for line in sys.stdin:
    if line == "done\\n":
        sys.exit()
    pid, start = line.split()
    workers[int(pid)] = start
for pid, start in workers.items():
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[19] == start:
                os.kill(pid, signal.SIGKILL)
    except (OSError, IndexError):
        pass
"""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; the shell's exit code is 128 + its number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        self.message = (f"interrupted by {signal.Signals(signum).name}: the run stopped and "
                        "left nothing behind")
        super().__init__(self.message)


class Guard:
    """The clean-ups a hard stop runs; ``committed`` once the run is published.

    A published run is finished: a signal after that no longer stops it (the command
    only prints for a moment more), so that the message stays true.
    """

    def __init__(self, grace: float | None) -> None:
        self.grace = grace
        self.cleanups: list[Callable[[], None]] = []
        self.committed = False
        self.reaper: subprocess.Popen[str] | None = None
        self._told: set[int] = set()

    def _watch(self, fd: int) -> None:
        """Read signal numbers from the wake-up pipe (a 0 byte closes the guard)."""
        signum, deadline = 0, None
        while True:
            wait = 0.2 if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], wait)[0]:
                if deadline is not None:
                    self._hard_stop(signum)  # the grace is over, the main thread still runs
                self._tell_reaper()
                continue
            byte = os.read(fd, 1)
            if byte in (b"", b"\0"):
                return
            if self.committed or self.grace is None or byte[0] not in SIGNALS:
                continue  # (any signal with a Python handler is written to the pipe)
            if signum:
                self._hard_stop(signum)  # a second signal: the user insists
            signum, deadline = byte[0], time.monotonic() + self.grace

    def _tell_reaper(self, done: bool = False) -> None:
        if self.reaper is None or self.reaper.stdin is None:
            return
        try:
            for child in multiprocessing.active_children():
                start = process_start(child.pid or 0)
                if child.pid not in self._told and start is not None:
                    self.reaper.stdin.write(f"{child.pid} {start}\n")
                    self._told.add(child.pid or 0)
            if done:
                self.reaper.stdin.write("done\n")
            self.reaper.stdin.flush()
        except (OSError, ValueError):  # the reaper is gone: nothing more to tell
            self.reaper = None

    def _close_reaper(self) -> None:
        """The guard ends in order: the reaper exits without killing anything."""
        reaper = self.reaper
        if reaper is not None:
            self._tell_reaper(done=True)
            with contextlib.suppress(OSError), reaper:  # closes its pipe, waits for it
                pass

    def _hard_stop(self, signum: int) -> None:
        for cleanup in self.cleanups:
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - exiting anyway; the next run removes the rest
                pass
        _kill_workers()
        sys.stderr.write(Interrupted(signum).message + "\n")
        sys.stderr.flush()
        os._exit(128 + signum)


_active: Guard | None = None


def _kill_workers() -> None:
    """Kill this process's worker processes (joblib's loky workers): none outlives it."""
    for child in multiprocessing.active_children():
        try:
            os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
        except (OSError, TypeError):
            pass


def _raise(signum: int, frame: object) -> None:
    if _active is None or not _active.committed:
        raise Interrupted(signum)


def _cp_sat_leaves_sigint_alone() -> Callable[[], None]:
    """Turn CP-SAT's SIGINT handler off (if OR-tools is loaded); return the undo."""
    cp_model = sys.modules.get("ortools.sat.python.cp_model")
    solver = getattr(cp_model, "CpSolver", None)
    if solver is None or getattr(solver.solve, "leaves_sigint_alone", False):
        return lambda: None
    original = solver.solve

    @functools.wraps(original)
    def solve(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.parameters.catch_sigint_signal = False
        return original(self, *args, **kwargs)

    solve.leaves_sigint_alone = True  # type: ignore[attr-defined]
    solver.solve = solve
    return lambda: setattr(solver, "solve", original)


@contextlib.contextmanager
def stop_on_signals(grace: float | None = None) -> Iterator[Guard]:
    """Guard a run: SIGINT or SIGTERM raises :class:`Interrupted` in the main thread.

    ``grace``: seconds after which a main thread that has not stopped is stopped hard
    (None: never). Nested, it joins the outer guard (and turns CP-SAT's handler off if
    OR-tools was loaded since); outside the main thread nothing can be installed. On
    leaving, the previous handlers are installed again.
    """
    global _active
    if _active is not None or threading.current_thread() is not threading.main_thread() \
            or os.name != "posix":
        undo = _cp_sat_leaves_sigint_alone() if _active is not None else (lambda: None)
        try:
            yield _active or Guard(None)
        finally:
            undo()
        return
    guard = _active = Guard(grace)
    if grace is not None and Path("/proc/self/stat").exists():
        guard.reaper = subprocess.Popen([sys.executable, "-I", "-c", _REAPER], text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
    undo = _cp_sat_leaves_sigint_alone()
    read, write = os.pipe()
    os.set_blocking(write, False)
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    for s in SIGNALS:
        signal.signal(s, _raise)
    wakeup = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    watcher = threading.Thread(target=guard._watch, args=(read,), name="scorelab-signals",
                               daemon=True)
    watcher.start()
    try:
        yield guard
    except Interrupted:
        if grace is not None:  # the command line: its process ends now, and its workers too
            _kill_workers()
        raise
    finally:
        guard.committed = True  # from here a signal no longer raises
        os.write(write, b"\0")
        watcher.join()
        guard._close_reaper()
        signal.set_wakeup_fd(wakeup)
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        os.close(read)
        os.close(write)
        undo()
        _active = None
