"""Progress of a long run, reported from wherever the work is done.

A stage (``Stopwatch.stage``) announces that it begins and ends; inside a stage the
work reports steps (``step(done, total)``: fold fits, models audited, ...). Whoever
shows progress (the command line) installs a :class:`Reporter` for the duration of the
run with :func:`reporting`; without one every call is a no-op, so library users and
tests see nothing. A leaf module: it imports nothing of scorelab.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

__all__ = ["Reporter", "begin", "end", "reporting", "step"]


class Reporter(Protocol):
    """What a progress display implements."""

    def begin(self, stage: str) -> None: ...

    def step(self, done: int, total: int) -> None: ...

    def end(self, stage: str, seconds: float) -> None: ...


_current: ContextVar[Reporter | None] = ContextVar("scorelab_progress", default=None)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Send the progress of everything run inside the block to ``reporter``."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def begin(stage: str) -> None:
    """A stage starts."""
    if (r := _current.get()) is not None:
        r.begin(stage)


def step(done: int, total: int) -> None:
    """``done`` of ``total`` steps of the current stage are finished."""
    if (r := _current.get()) is not None:
        r.step(done, total)


def end(stage: str, seconds: float) -> None:
    """A stage ended after ``seconds``."""
    if (r := _current.get()) is not None:
        r.end(stage, seconds)
