"""Progress: every stage is announced and timed; a bar per stage on a terminal, a line
per stage elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from scorelab.core import progress
from scorelab.cli.progress import StageDisplay
from scorelab.runs.writer import Stopwatch


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def begin(self, stage: str) -> None:
        self.events.append(("begin", stage))

    def step(self, done: int, total: int) -> None:
        self.events.append(("step", done, total))

    def end(self, stage: str, seconds: float) -> None:
        self.events.append(("end", stage, seconds >= 0))


def test_stopwatch_stages_reach_the_installed_reporter_and_nothing_else():
    clock = Stopwatch()
    with clock.stage("before"):  # no reporter: nothing happens, nothing fails
        progress.step(1, 2)
    rec = _Recorder()
    with progress.reporting(rec):
        with clock.stage("fit_predict"):
            progress.step(1, 3)
            progress.step(3, 3)
        with clock.stage("fairness"):
            progress.step(1, 1)
    with clock.stage("after"):
        progress.step(1, 1)
    assert rec.events == [("begin", "fit_predict"), ("step", 1, 3), ("step", 3, 3),
                          ("end", "fit_predict", True), ("begin", "fairness"),
                          ("step", 1, 1), ("end", "fairness", True)]
    assert set(clock.seconds) == {"before", "fit_predict", "fairness", "after"}


def test_piped_output_is_one_line_per_stage_with_its_time():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=100)
    with StageDisplay(console) as display:
        display.begin("metrics")
        display.step(2, 5)
        display.end("metrics", 1.25)
        display.begin("fairness")
        display.end("fairness", 12.0)
    assert buffer.getvalue().splitlines() == ["metrics: 1.2 s", "fairness: 12.0 s"]


def test_a_terminal_gets_one_bar_per_stage_completed_when_it_ends():
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with StageDisplay(console) as display:
        display.begin("fit_predict")
        display.step(4, 10)
        assert display.bars.tasks[0].completed == 4 and display.bars.tasks[0].total == 10
        display.end("fit_predict", 3.0)
        display.begin("fairness")  # a stage that reports no steps still gets its bar
        display.end("fairness", 1.0)
        tasks = display.bars.tasks
    assert [t.description for t in tasks] == ["fitting models x folds", "fairness audit"]
    assert all(t.finished for t in tasks)
