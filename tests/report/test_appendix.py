"""The examiner's appendix: provenance, the decision policy, reasons by age group and
the model cards page one links to; the proxy verdict; all of it printed open."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from scorelab.report.blocks import pct
from scorelab.report.sections.appendix import reason_codes_by_age
from scorelab.runs.reader import load_run
from tests.report.consistency import blocks_of


def test_reason_codes_by_age_counts_each_bands_declined() -> None:
    ages = pd.Series({1: 20, 2: 22, 3: 24, 4: 40, 5: 45, 6: 70}, name="age")
    reasons = pd.DataFrame({
        "citizen_id": [1, 1, 2, 3, 4, 5, 5, 6],
        "model": ["m"] * 8,
        "rank": [1, 2, 1, 1, 1, 1, 2, 1],
        "code": ["H", "D", "H", "D", "D", "D", "H", "D"],
        "reason": ["housing", "debt", "housing", "debt", "debt", "debt", "housing", "debt"]})
    out = reason_codes_by_age(reasons, ages, [18, 26, 36, 51, 62], per_model=2)
    at = out.set_index(["code", "age_band"])
    assert at.loc[("H", "18-25"), ["n_given", "n_declined"]].tolist() == [2, 3]
    assert at.loc[("H", "36-50"), "share"] == pytest.approx(0.5)  # one of two
    assert at.loc[("D", "18-25"), "share"] == pytest.approx(2 / 3)
    assert at.loc[("H", "62+"), "n_given"] == 0 and at.loc[("D", "62+"), "share"] == 1.0
    only_one = reason_codes_by_age(reasons, ages, [18, 26, 36, 51, 62], per_model=1)
    assert set(only_one["code"]) == {"D"}  # the most frequent reason (5 applicants)


@pytest.mark.heavy
def test_the_appendix_of_german_credit(german_study_run: Path) -> None:
    run = load_run(german_study_run)
    report = json.loads((german_study_run / "report.json").read_text())
    appendix = next(s for s in report["sections"] if s["id"] == "appendix")
    summaries = [b["summary"] for b in appendix["blocks"]]
    provenance = appendix["blocks"][0]["blocks"][0]["rows"]
    facts = {r[0]["text"]: r[1]["text"] for r in provenance}
    assert "CC BY 4.0" in facts["licence"] and facts["published"] == "1994"
    assert facts["collected"] == "not stated in german_credit.card.json"  # never guessed
    assert "personal_status_sex" in facts["derived columns"]
    assert facts["dropped columns"] == "personal_status_sex"
    decision = next(b for b in appendix["blocks"] if b["summary"].startswith("Decision"))
    said = decision["blocks"][0]["text"]
    assert "fixed by the config" in said and "600 points" in said
    assert pct(1 - run.data_card["observed_default_rate"]) + " repaid" in said
    assert any(s.startswith("Adverse reasons by age group") for s in summaries)
    # page one links every model to its card, and every card carries its intended use
    page_one = next(s for s in report["sections"] if s["id"] == "summary")
    board = next(b for b in page_one["blocks"] if b["kind"] == "table")
    anchors = {b.get("anchor") for _, b in blocks_of(report)}
    for row in board["rows"]:
        assert row[0]["href"] == f"#card-{row[0]['text']}"
        assert f"card-{row[0]['text']}" in anchors
    cards = [b for _, b in blocks_of(report) if b.get("anchor", "").startswith("card-")]
    assert len(cards) == len(run.model_names)
    for card in cards:
        facts = {r[0]["text"]: r[1]["text"] for r in card["blocks"][0]["rows"]}
        assert facts["intended use"] and facts["limits"]


@pytest.mark.heavy
def test_the_proxy_verdict_names_the_audits_strong_stand_ins(default_study_run: Path
                                                             ) -> None:
    run = load_run(default_study_run)
    report = json.loads((default_study_run / "report.json").read_text())
    policy = next(s for s in report["sections"] if s["id"] == "policy")
    table = policy["blocks"][0]
    strong = [r["feature"] for r in run.fairness["proxy_audit"] if r["strength"] >= 0.3]
    assert strong and f"stand-ins for age ({', '.join(strong)})" in table["columns"][-1]
    inputs = {m.name: m.inputs for m in run.study.models}
    for row in table["rows"]:
        model, cell = row[0]["text"], row[-1]
        if not set(strong) & set(inputs[model]):
            assert cell["text"].endswith("none among its inputs")
        else:
            assert cell["status"] in ("pass", "warn", "n/a")


def test_the_glossary_defines_only_the_words_a_report_uses() -> None:
    from scorelab.report.glossary import glossary_for

    said = glossary_for("Stand-ins for age (proxy strength >= 0.30); AUC 0.79; provenance")
    assert list(said) == ["AUC", "stand-in", "proxy strength", "provenance"]
    assert "stand-in" not in glossary_for("the twins stand in line")  # whole terms only
