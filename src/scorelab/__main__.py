"""The ``scorelab`` command: Ctrl-C or SIGTERM while the command is still importing
its libraries (seconds on a small machine) stops it with one line, not a traceback.

Nothing has been written at that point; the commands install their own handling
(``run`` keeps nothing of an interrupted run) once they start.
"""

from __future__ import annotations


def main() -> None:
    from scorelab.cli.starting import starting

    with starting():
        from scorelab.cli.commands import app
    app()


if __name__ == "__main__":
    main()
