"""How the command line shows a run's progress (a :class:`scorelab.core.progress.Reporter`).

On a terminal: one bar per stage (fitting, explaining, metrics, fairness, report, ...),
counting the stage's steps when it reports them and showing its elapsed time always, so
a busy stage is never a frozen bar. Otherwise (CI logs, pipes): one line per finished
stage with its time, ``fairness: 12.3 s``, and nothing else.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

__all__ = ["STAGE_LABELS", "StageDisplay"]

#: What each stage is called on screen.
STAGE_LABELS = {"generate": "generating citizens", "splits": "splitting folds",
                "fit_predict": "fitting models x folds", "fit_final": "fitting final models",
                "metrics": "metrics", "explanations": "explaining", "fairness": "fairness audit",
                "write": "writing the run", "report": "report"}


class StageDisplay:
    """A bar per stage on a terminal, a line per stage elsewhere (use as a context)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.bars = Progress("[progress.description]{task.description}", BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                             transient=True, disable=not self.live)
        self.task: TaskID | None = None

    def __enter__(self) -> StageDisplay:
        self.bars.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.bars.__exit__(kind, exc, tb)

    def begin(self, stage: str) -> None:
        if self.live:
            self.task = self.bars.add_task(STAGE_LABELS.get(stage, stage), total=None)

    def step(self, done: int, total: int) -> None:
        if self.live and self.task is not None:
            self.bars.update(self.task, completed=done, total=total)

    def end(self, stage: str, seconds: float) -> None:
        if self.live:
            if self.task is not None:
                task = self.bars.tasks[-1]
                self.bars.update(self.task, total=task.total or 1,
                                 completed=task.total or 1)
                self.bars.stop_task(self.task)
            self.task = None
        else:  # piped (CI logs): one line per stage with its time
            self.console.print(f"{stage}: {seconds:.1f} s", highlight=False)
