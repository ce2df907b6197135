"""The ``scorelab`` command: Ctrl-C or SIGTERM while the command is still importing
its libraries (seconds on a small machine) stops it with one line, not a traceback.

Nothing has been written at that point; the commands install their own handling
(``run`` keeps nothing of an interrupted run) once they start.
"""

from __future__ import annotations

import os
import signal
import sys


def _stop_while_starting(signum: int, _frame: object) -> None:
    sys.stderr.write("scorelab: stopped while starting; nothing was written\n")
    os._exit(128 + signum)


def main() -> None:
    previous = {s: signal.signal(s, _stop_while_starting)
                for s in (signal.SIGINT, signal.SIGTERM)}
    from scorelab.cli import app

    for s, handler in previous.items():
        signal.signal(s, handler)
    app()


if __name__ == "__main__":
    main()
