"""No two sections of a report state different values for the same quantity, and each
value equals the run's own table (the default study and German credit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scorelab.report.blocks import fmt, pct
from scorelab.runs.reader import load_run
from tests.report.consistency import LIGHT_OF_SCREEN, contradictions, statements

pytestmark = pytest.mark.heavy  # reads whole studies (session fixtures)


def _check(run_dir: Path) -> None:
    run = load_run(run_dir)
    report = json.loads((run_dir / "report.json").read_text())
    said = statements(report, run.model_names)
    assert not contradictions(report, run.model_names)
    # every quantity is stated in at least two places, so the test compares something
    for kind in ("auc", "screen", "approval"):
        assert any(q[0] == kind and len({w for w, _ in where}) >= 2
                   for q, where in said.items()), kind
    board = run.leaderboard.set_index("model")
    policy = run.metrics["practice"]["policy"]
    for quantity, where in said.items():
        value = next(iter(where))[1]
        if quantity[0] == "auc":
            assert value == fmt(board.at[quantity[1], "auc"]), quantity
        elif quantity[0] == "approval":
            p = run.metrics["practice"]["models"][quantity[1]]["policies"][policy]
            assert value == pct(p["approval_rate"]), quantity
        else:
            _, model, attribute = quantity
            row = next(r for r in run.fairness["models"][model]["disparities"]
                       if r["outcome"] == "observed" and r["attribute"] == attribute)
            assert value == LIGHT_OF_SCREEN[row["screen"]], quantity


def test_the_default_study_says_each_value_once(default_study_run: Path) -> None:
    _check(default_study_run)


def test_german_credit_says_each_value_once(german_study_run: Path) -> None:
    _check(german_study_run)
