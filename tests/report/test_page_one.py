"""Page one of the default study's report: every number on it equals the run's tables
(the screen and Holm p-value from fairness.json, group sizes and approval intervals
from fairness_by_group, the alternative from the leaderboard); the contents are
numbered as the headings are; the seed paper's vocabulary stays on a synthetic study."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scorelab.report.blocks import fmt_p, pct
from scorelab.report.context import ReportContext
from scorelab.report.sections.verdict import alternative, ratio_text
from scorelab.runs.reader import load_run

pytestmark = pytest.mark.heavy  # reads the default study (a session fixture)


@pytest.fixture(scope="module")
def page(default_study_run: Path) -> tuple:
    run = load_run(default_study_run)
    report = json.loads((default_study_run / "report.json").read_text())
    summary = next(s for s in report["sections"] if s["id"] == "summary")
    return run, summary


def _screened(run, model: str) -> list[dict]:
    return [r for r in run.fairness["models"][model]["disparities"]
            if r["outcome"] == "observed" and r.get("worst_approval_ratio") is not None]


def test_the_table_shows_each_models_screen_ratio_and_group_sizes(page) -> None:
    run, summary = page
    board = next(b for b in summary["blocks"] if b["kind"] == "table")
    groups = run.fairness_by_group
    order = ["fail (significant)", "below the screen, not significant", "pass"]
    light = {"fail (significant)": "fail", "below the screen, not significant": "warn",
             "pass": "pass"}
    assert [row[0]["text"] for row in board["rows"]] == run.model_names
    ratio_at = board["columns"].index("worst four-fifths ratio")
    groups_at = board["columns"].index("groups compared (lowest vs highest approval; n)")
    for row in board["rows"]:
        model, cell, compared = row[0]["text"], row[ratio_at], row[groups_at]["text"]
        worst = min(_screened(run, model), key=lambda r: (order.index(r["screen"]),
                                                          r["worst_approval_ratio"]))
        assert cell["status"] == light[worst["screen"]]
        assert ratio_text(worst["worst_approval_ratio"], 0.8) in cell["text"]
        if worst["screen"] != "pass":
            assert fmt_p(worst["p_holm_approval"]) in cell["text"]
        for side in ("lowest_group", "highest_group"):
            n = groups.loc[(groups["model"] == model) & (groups["outcome"] == "observed")
                           & (groups["attribute"] == worst["attribute"])
                           & (groups["group"] == worst[side]), "n"].iloc[0]
            assert f"{worst[side]} ({int(n):,})" in compared


def test_each_attribute_line_counts_the_screens_and_quotes_the_groups(page) -> None:
    run, summary = page
    lines = next(b for b in summary["blocks"] if b["kind"] == "list")["items"]
    best = run.model_names[0]
    groups = run.fairness_by_group
    attributes = list(dict.fromkeys(groups["attribute"].astype(str)))
    by_name = {line.split(":")[0]: line for line in lines}
    for attribute in attributes:
        rows = {m: next(r for r in _screened(run, m) if r["attribute"] == attribute)
                for m in run.model_names}
        if all(r["screen"] == "pass" for r in rows.values()):  # one line for all of them
            assert attribute in lines[-1].split(":")[0].split(", ")
            assert lines[-1].endswith("every model passes the four-fifths screen. What "
                                      "follows: no disparity shown.")
            continue
        line = by_name[attribute]
        sig = [m for m, r in rows.items() if r["screen"] == "fail (significant)"]
        assert f"{len(sig)} of {len(rows)} models fail the four-fifths screen " \
               "significantly" in line
        mine = rows[best]
        low = groups[(groups["model"] == best) & (groups["outcome"] == "observed")
                     & (groups["attribute"] == attribute)
                     & (groups["group"] == mine["lowest_group"])
                     & (groups["metric"] == "approval_rate")].iloc[0]
        assert (f"{mine['lowest_group']} (n = {int(low['n']):,}, approved "
                f"{pct(low['value'])} [{pct(low['ci_low'])}, {pct(low['ci_high'])}])") in line
        assert f"Holm-adjusted {fmt_p(mine['p_holm_approval'])}" in line
        follows = re.search(r"What follows: (.*)$", line)
        assert follows is not None
        if mine["screen"] == "pass":
            assert follows[1] == "no disparity shown."


def test_the_alternative_is_the_one_the_leaderboard_gives(page) -> None:
    run, summary = page
    texts = [b["text"] for b in summary["blocks"] if b["kind"] == "text"]
    sentence = next(t for t in texts if t.startswith("Less discriminatory alternative"))
    alt = alternative(ReportContext(run))
    if alt is None:
        assert sentence.startswith("Less discriminatory alternative: none in this run")
    else:
        assert sentence.startswith(f"Less discriminatory alternative: {alt.model}.")
        assert not run.leaderboard.set_index("model").at[alt.model, "significant_vs_best"]


def test_the_contents_are_numbered_as_the_headings(default_study_run: Path) -> None:
    html = (default_study_run / "report.html").read_text()
    nav = re.search(r"<nav.*?</nav>", html, re.S)[0]
    listed = re.findall(r'<a href="#([a-z_]+)">([^<]+)</a>', nav)
    headings = dict(re.findall(r'<section id="([a-z_]+)"[^>]*>\s*<h2>([^<]+)</h2>', html))
    assert listed and all(headings[key] == title for key, title in listed)


def test_a_synthetic_study_keeps_the_seed_papers_vocabulary(default_study_run: Path) -> None:
    report = (default_study_run / "report.md").read_text()
    assert "citizens" in report and "society scale" in report.lower()
    assert "62+" in report  # the Regulation B band is a fairness band by default


def _sections(run_dir: Path) -> dict[str, dict]:
    data = json.loads((run_dir / "report.json").read_text())  # rendered by the run
    return {s["id"]: s for s in data["sections"]}


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
