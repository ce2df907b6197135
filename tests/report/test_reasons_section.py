"""The adverse-action section of the default study's run directory: artifacts that
validate, reasons that obey the rules, a report built from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scorelab.runs.reader import load_run

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


def test_the_run_holds_reasons_recourse_and_the_age_rule(default_study_run: Path) -> None:
    run = load_run(default_study_run)
    summary, rule = run.adverse_action, run.age_rule
    assert summary is not None and rule is not None
    reasons = run.adverse_reasons()
    recourse = run.recourse()
    assert not set(reasons["feature"]) & set(summary["barred"])
    assert (reasons["gap"] > 0).all() and (reasons["shap"] > 0).all()
    first = run.predictions[run.predictions["repeat"] == 0].set_index(
        ["model", "citizen_id"])["approved"]
    keys = list(zip(reasons["model"].astype(str), reasons["citizen_id"], strict=True))
    assert not first.loc[keys].any()  # approved applicants get no reasons
    for name, entry in summary["models"].items():
        if entry.get("recourse", {}).get("searched"):
            mine = recourse[recourse["model"] == name]
            rec = entry["recourse"]
            statuses = mine["status"].value_counts()
            assert rec["n_found"] == int(mine["found"].sum()) == int(statuses.get("found", 0))
            assert rec["n_proven_none"] == int(statuses.get("none", 0))
            assert rec["n_found"] + rec["n_proven_none"] + rec["n_undecided"] == len(mine)
            # a proof of no recourse: even the best reachable score stays below the cut-off
            proven = mine[mine["status"] == "none"]
            assert (proven["bound"] < run.study.decision.cutoff_score).all()
            assert (proven["bound"] >= proven["best_score"] - 1e-9).all()
    for name, entry in rule["models"].items():
        inputs = next(m.inputs for m in run.study.models if m.name == name)
        assert (entry["verdict"] == "does not apply") == ("age" not in inputs)
    report = (default_study_run / "report.md").read_text()
    assert "Adverse-action reasons and the age rule" in report
    # the applicant's units are points: no reason in the section speaks log-odds
    start = re.search(r"^## \d+\. Adverse-action reasons", report, re.M).start()
    following = report.find("\n## ", start)
    section = report[start:following if following > 0 else None]
    assert "points" in section
    assert "log-odds" not in section and "log odds" not in section
    for name, entry in summary["models"].items():
        if entry.get("n_declined"):
            assert name in report


def test_fidelity_is_shown_with_its_interval_and_chance(default_study_run: Path) -> None:
    """Each model's reason fidelity is stated with the Wilson interval and the chance
    level adverse_action.json holds, so a share can be read against what shuffled
    reasons would score."""
    run = load_run(default_study_run)
    report = (default_study_run / "report.md").read_text()
    assert "Reason fidelity against the planted truth" in report
    shown = 0
    for name, entry in run.adverse_action["models"].items():
        f = entry.get("fidelity") or {}
        if f.get("fidelity") is None:
            continue
        lo, hi = f["interval"]
        row = next(line for line in report.splitlines()
                   if line.startswith(f"| {name} | {f['n_counted']:,} |"))
        cells = [c.strip().replace("\\[", "[").replace("\\]", "]")
                 for c in row.strip("|").split("|")]  # Markdown escapes brackets
        assert cells[2] == f"{f['fidelity']:.1%} [{lo:.1%}, {hi:.1%}]", row
        assert cells[3] == f"{f['chance']['fidelity']:.1%}", row
        lo, hi = f["top_in_reasons_interval"]
        assert cells[4] == f"{f['top_in_reasons']:.1%} [{lo:.1%}, {hi:.1%}]", row
        assert lo <= f["top_in_reasons"] <= hi
        shown += 1
    assert shown >= 3
