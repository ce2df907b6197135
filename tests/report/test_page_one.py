"""Page one of the default study's report: one row per model in AUC order, each
status and ratio taken from the run, and no number a reader could misread."""

from __future__ import annotations

import pytest
import json
import re
from pathlib import Path

import pandas as pd

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`



def _sections(run_dir: Path) -> dict[str, dict]:
    data = json.loads((run_dir / "report.json").read_text())  # rendered by the run
    return {s["id"]: s for s in data["sections"]}


def test_page_one_rows_follow_the_run(default_study_run: Path) -> None:
    summary = _sections(default_study_run)["summary"]
    board = pd.read_csv(default_study_run / "leaderboard.csv")
    fairness = json.loads((default_study_run / "fairness.json").read_text())
    direct = {f["model"] for f in fairness["policy_flags"] if f["check"] == "direct_input"}
    table = summary["blocks"][0]
    assert [r[0]["text"] for r in table["rows"]] == list(board["model"])  # best AUC first
    status_at = table["columns"].index("status")
    ratio_at = table["columns"].index("worst four-fifths ratio")
    for row, (_, expected) in zip(table["rows"], board.iterrows(), strict=True):
        failed = expected["four_fifths_verdict"] == "fail" or expected["model"] in direct
        assert (row[status_at]["status"] == "fail") == failed, expected["model"]
        assert row[ratio_at]["text"].endswith(f"{expected['worst_approval_ratio']:.2f}")
    n_fail = sum(r[status_at]["status"] == "fail" for r in table["rows"])
    assert f"{n_fail} model(s) fail" in summary["summary"]
    best = board["model"].iloc[0]
    finding = next(b["text"] for b in summary["blocks"] if b["kind"] == "text")
    assert finding.startswith(f"Under {best}")


def test_no_misreadable_numbers(default_study_run: Path) -> None:
    text = (default_study_run / "report.md").read_text()
    assert not re.search(r"p ?= ?<|p ?= ?0\.000\b|p<0", text)  # "p < 0.001", never "p=<0.001"
    for share in re.findall(r"(\d+)% \|\s*$", text, flags=re.M):
        assert int(share) <= 100
    age = _sections(default_study_run)["age"]
    decomposition = next(b for b in age["blocks"] if b.get("title", "") and
                         b["title"].startswith("Where the age gap comes from"))
    for row in decomposition["rows"]:
        last = row[-1]["text"]
        assert last == "n/a (parts offset)" or 0 <= int(last.rstrip("%")) <= 100
