"""The workbench's routes through Starlette's test client: every view, its numbers
against the library's, the errors as one line, and the runs folder never changed."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from markupsafe import escape

from scorelab.applicants.explain import explain_citizen
from scorelab.runs import load_run
from scorelab.serve.server import check_port, host_warning, is_loopback
from tests.bad_inputs.harness import digest
from tests.serve.conftest import DAMAGED, LINK, UNFINISHED


def problem(page: str) -> list[str]:
    """The one-line problems a page shows."""
    return [html.unescape(re.sub(r"<[^>]+>", "", m)) for m in
            re.findall(r'class="problem"[^>]*>(.*?)</p>', page, flags=re.DOTALL)]


def test_runs_table_lists_every_run_and_why_some_cannot_open(client, run_id, other_id):
    page = client.get("/")
    assert page.status_code == 200
    for name in (run_id, other_id, DAMAGED, UNFINISHED):
        assert name in page.text
    damaged_row = re.search(rf"<tr class=\"run-row damaged\"[^>]*>\s*<td>{DAMAGED}</td>.*?</tr>",
                            page.text, flags=re.DOTALL)
    assert damaged_row and "metrics.json" in damaged_row.group(0)
    assert "unfinished" in page.text
    assert LINK not in page.text  # a symlink out of the folder is no run of it
    filtered = client.get("/", params={"q": "serve-other"}).text
    assert other_id in filtered and DAMAGED not in filtered


def test_run_page_and_its_report(client, run_id):
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    for model in ("suining", "scorecard", "lightgbm", "mlp"):
        assert f"<td>{model}</td>" in page.text
    report = client.get(f"/runs/{run_id}/report")
    assert report.status_code == 200 and "<svg" in report.text
    assert run_id in report.text


def test_citizen_page_is_the_explain_letter(client, runs_dir, run_id):
    letter = explain_citizen(load_run(runs_dir / run_id), 17, "lightgbm")
    page = client.get(f"/runs/{run_id}/citizens/17", params={"model": "lightgbm"})
    assert page.status_code == 200
    score = re.search(r'data-score="(-?\d+)"', page.text)
    assert score and int(score.group(1)) == round(letter.score)
    for reason in letter.reasons:
        assert reason.text in page.text
    assert letter.source in page.text
    assert str(escape(letter.text())) in page.text  # word for word, as explain prints it


def test_whatif_edit_moves_the_score_and_says_by_how_much(client, run_id):
    base = client.get(f"/api/runs/{run_id}/citizens/17/whatif",
                      params={"model": "scorecard"}).json()
    edited = client.get(f"/api/runs/{run_id}/citizens/17/whatif",
                        params={"model": "scorecard", "set.late_payments": "9"}).json()
    assert base["delta"] == 0 and base["score"] == base["original_score"]
    assert edited["score"] < base["score"]  # more late payments: a lower score
    assert edited["delta"] == pytest.approx(edited["score_exact"] - base["score_exact"],
                                            abs=0.01)
    fragment = client.get(f"/runs/{run_id}/citizens/17/whatif",
                          params={"model": "scorecard", "set.late_payments": "9"})
    assert f"{edited['score_exact'] - base['score_exact']:+.0f} points" in fragment.text


def test_immutable_inputs_need_unlocking(client, run_id):
    url = f"/api/runs/{run_id}/citizens/17/whatif"
    locked = client.get(url, params={"model": "lightgbm", "set.education": "3"})
    assert locked.status_code == 400 and "immutable" in locked.json()["error"]
    unlocked = client.get(url, params={"model": "lightgbm", "set.education": "3",
                                       "unlock": "education"})
    assert unlocked.status_code == 200


def test_age_sweep_passes_through_the_citizens_own_score(client, run_id):
    sweep = client.get(f"/api/runs/{run_id}/citizens/17/sweep",
                       params={"model": "lightgbm"}).json()
    base = client.get(f"/api/runs/{run_id}/citizens/17/whatif",
                      params={"model": "lightgbm"}).json()
    ages = np.array(sweep["ages"])
    at_own_age = np.array(sweep["scores"])[ages == np.floor(sweep["age"])]
    assert at_own_age[0] == pytest.approx(base["score_exact"], abs=0.1)
    assert "credit_history_years" in sweep["path"]
    assert sweep["flips"] == [a for i, a in enumerate(sweep["ages"][1:], 1)
                              if sweep["approved"][i] != sweep["approved"][i - 1]]
    fragment = client.get(f"/runs/{run_id}/citizens/17/sweep", params={"model": "lightgbm"})
    assert "<svg" in fragment.text and "sweep-flips" in fragment.text


def test_pasted_applicant_is_scored_by_the_final_model(client, runs_dir, run_id):
    population = pd.read_parquet(runs_dir / run_id / "population.parquet")
    row = population.iloc[[3]]
    from scorelab.applicants.explain import explain_row

    letter = explain_row(load_run(runs_dir / run_id), row, "lightgbm")
    posted = client.post(f"/runs/{run_id}/applicant",
                         data={"row": row.to_csv(index=False), "model": "lightgbm"},
                         follow_redirects=False)
    assert posted.status_code == 303
    page = client.get(posted.headers["location"])
    assert page.status_code == 200 and "final model" in page.text
    assert f'data-score="{round(letter.score)}"' in page.text
    bad = client.post(f"/runs/{run_id}/applicant", data={"row": "a,b\n1,2\n3,4\n"})
    assert bad.status_code == 400 and "exactly one row" in problem(bad.text)[0]


def test_cutoff_explorer_follows_the_cutoff(client, runs_dir, run_id):
    pred = pd.read_parquet(runs_dir / run_id / "predictions.parquet")
    mine = pred[pred["model"].astype(str) == "lightgbm"]
    for cutoff in (560, 640):
        page = client.get(f"/runs/{run_id}/cutoffs/result",
                          params={"model": "lightgbm", "cutoff": str(cutoff)})
        shown = re.search(r'id="approval">([\d.]+)%', page.text)
        assert shown and float(shown.group(1)) == pytest.approx(
            100 * (mine["score"] >= cutoff).mean(), abs=0.05)
    assert "disparate treatment" not in page.text
    proposal = client.get(f"/runs/{run_id}/cutoffs", params={
        "model": "lightgbm", "attribute": "age_band", "cut.18-25": "580"})
    assert proposal.status_code == 200 and "disparate treatment" in proposal.text
    snippet = client.get(f"/runs/{run_id}/cutoffs.yaml", params={
        "model": "lightgbm", "attribute": "age_band", "cut.18-25": "580"})
    parsed = yaml.safe_load(snippet.text)
    assert parsed["proposal"]["cutoffs"] == {"18-25": 580.0}
    assert "disparate treatment" in snippet.text
    unknown = client.get(f"/runs/{run_id}/cutoffs", params={
        "model": "lightgbm", "attribute": "age_band", "cut.12-13": "580"})
    assert unknown.status_code == 400 and "no group '12-13'" in problem(unknown.text)[0]


def test_slicer_crosses_attributes_with_suppression(client, run_id):
    page = client.get(f"/runs/{run_id}/slicer", params={"model": "lightgbm",
                                                        "attrs": ["age", "sex"]})
    assert page.status_code == 200
    assert "18-25 x female" in page.text or "18-25 x male" in page.text
    assert "suppressed" in page.text and "Multiple comparisons" in page.text


def test_compare_lists_decision_flips_by_age_band(client, runs_dir, run_id, other_id):
    page = client.get(f"/compare/{run_id}/{other_id}", params={"model": "lightgbm"})
    assert page.status_code == 200
    a = pd.read_parquet(runs_dir / run_id / "predictions.parquet")
    b = pd.read_parquet(runs_dir / other_id / "predictions.parquet")
    a = a[a["model"].astype(str) == "lightgbm"].set_index("citizen_id")["approved"]
    b = b[b["model"].astype(str) == "lightgbm"].set_index("citizen_id")["approved"]
    flips = int((a != b.reindex(a.index)).sum())
    assert flips > 0
    assert f"Decisions that flip ({flips})" in page.text
    link = re.search(rf'href="/runs/{other_id}/citizens/(\d+)\?model=lightgbm"', page.text)
    assert link and client.get(link.group(0)[6:-1].replace("&amp;", "&")).status_code == 200
    shown_all = client.get(f"/compare/{run_id}/{other_id}", params={"model": "lightgbm",
                                                                      "all": "1"})
    assert shown_all.text.count("<tr>") >= page.text.count("<tr>")
    models = client.get(f"/compare/{run_id}/{run_id}",
                        params={"model": "lightgbm", "model_b": "scorecard"})
    assert models.status_code == 200 and "Compare lightgbm with scorecard" in models.text


def test_evidence_is_one_self_contained_stamped_file(client, runs_dir, run_id):
    manifest = load_run(runs_dir / run_id).manifest
    saved = client.get(f"/runs/{run_id}/citizens/17",
                       params={"model": "lightgbm", "set.late_payments": "4",
                               "evidence": "1"})
    assert saved.status_code == 200
    assert "attachment" in saved.headers["content-disposition"]
    for stamp in (run_id, manifest["config_hash"], manifest["data_fingerprint"]):
        assert stamp in saved.text
    assert "<script" not in saved.text and 'rel="stylesheet"' not in saved.text
    assert not re.search(r'(src|href)="(https?:)?//', saved.text)


def test_age_flip_rates_per_model(client, run_id):
    page = client.get(f"/runs/{run_id}/age")
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>(\w+)</td><td class=\"right\">(\d+)</td>", page.text)
    assert {name for name, _ in rows} == {"suining", "scorecard", "lightgbm", "mlp"}


def test_pages_carry_a_strict_content_policy_and_refuse_other_hosts(client, run_id):
    page = client.get(f"/runs/{run_id}")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.delete(f"/runs/{run_id}").status_code == 405


def test_nothing_in_the_runs_folder_changes(client, runs_dir, run_id, other_id):
    before = digest(runs_dir)
    for url in ["/", f"/runs/{run_id}", f"/runs/{run_id}/report", f"/runs/{DAMAGED}",
                f"/runs/{run_id}/citizens/3?model=mlp&set.income=2",
                f"/runs/{run_id}/cutoffs?cutoff=500&attribute=sex&cut.female=520",
                f"/runs/{run_id}/cutoffs.yaml?cutoff=500", f"/runs/{run_id}/slicer",
                f"/compare/{run_id}/{other_id}", f"/runs/{run_id}/age",
                f"/runs/{run_id}/files/manifest.json", f"/runs/{run_id}?evidence=1"]:
        client.get(url)
    client.post(f"/runs/{run_id}/applicant", data={"row": "income\n3\n"})
    assert digest(runs_dir) == before
    assert not any(p.name.startswith("report") and p.stat().st_mtime > 0 and
                   p.parent.name == DAMAGED for p in Path(runs_dir).rglob("report.*")
                   if False)


def test_loopback_and_ports():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert host_warning("127.0.0.1") is None
    assert "other machines can reach" in host_warning("0.0.0.0")
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(Exception, match=f"port {port} on 127.0.0.1 is in use"):
            check_port("127.0.0.1", port)
