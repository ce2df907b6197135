"""A signal while the command is still importing its libraries (seconds on a small
machine) stops it with one line, not a traceback: nothing has been written yet.

The commands install their own handling once they start (``run`` and ``lda`` keep
nothing of an interrupted run: :func:`scorelab.api.stop_on_signals`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

__all__ = ["starting"]


def _stop_while_starting(signum: int, _frame: object) -> None:
    sys.stderr.write("scorelab: stopped while starting; nothing was written\n")
    os._exit(128 + signum)


@contextlib.contextmanager
def starting() -> Iterator[None]:
    """SIGINT and SIGTERM stop the process at once, with one line, until the block ends
    (the handlers in place before are restored then)."""
    previous = {s: signal.signal(s, _stop_while_starting)
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
