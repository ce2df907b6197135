"""The validity section: a synthetic run's age analyses against its planted causes,
built from the run's own validity.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scorelab.report.context import ReportContext
from scorelab.report.sections.validity import validity
from scorelab.runs import load_run
from scorelab.study.runner import run
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


@pytest.fixture(scope="module")
def audited_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic run with the age audit (every cause of the defaults planted)."""
    config = make_config({
        "name": "validity", "evaluation": {"folds": 3, "bootstrap": 20, "n_jobs": 1},
        "models": [{"family": "trees", "name": "lightgbm", "params": {"n_estimators": 40}}],
        "explain": {"enabled": False}, "output": {"save_models": "none"},
        "fairness": {"attributes": ["age"], "intersections": [], "bootstrap": 50},
        "report": {"formats": ["md"]}}, n=1000, seed=5)
    result = run(config, runs_dir=tmp_path_factory.mktemp("validity-runs"))
    assert result.run_dir is not None
    return result.run_dir


def test_synthetic_run_reports_its_checks(audited_run: Path):
    v = json.loads((audited_run / "validity.json").read_text())
    assert v["n_checks"] == len(v["checks"]) > 0
    assert v["n_passed"] + v["n_failed"] <= v["n_checks"]
    report = (audited_run / "report.md").read_text()
    assert "Validity: planted causes against what was recovered" in report
    assert f"{v['n_passed']} of {v['n_checks']} checks held, {v['n_failed']} did not" in report
    for row in v["by_analysis"]:
        assert row["analysis"] in report
        if row["failed"]:  # a miss is named with the models that missed it
            assert "missed by " + ", ".join(row["missed_by"]) in report


def test_no_validity_json_no_section(run_copy: Path):
    """The tiny run has no fairness audit, hence no planted-truth checks: no section."""
    assert not (run_copy / "validity.json").exists()
    assert validity(ReportContext(load_run(run_copy))) is None


def test_label_bias_aimed_at_the_minority_is_checked_against_the_labels_own_age_gap(
        audited_run: Path):
    """The defaults plant label bias on the minority, not on age. It still reaches the
    young/rest gap as far as the two groups overlap, so the planted value is the labels'
    own young/rest gap measured on the population (not zero), and it is recovered."""
    v = json.loads((audited_run / "validity.json").read_text())
    fairness = json.loads((audited_run / "fairness.json").read_text())
    rows = [c for c in v["checks"] if c["analysis"].startswith("label bias")]
    assert rows, "no label-bias check in a run whose population plants label bias"
    for row in rows:
        assert "targets minority = minority" in row["planted"]
        assert row["planted_value"] != 0.0
        assert row["expected"] == "interval covers the labels' own gap"
        assert row["low"] <= row["planted_value"] <= row["high"] and row["passed"] is True
    d = fairness["models"]["lightgbm"]["age"]["decomposition"]
    assert d["label_bias_method"] == "observed vs true default-rate gap"
    assert d["label_bias"] == pytest.approx(rows[0]["planted_value"], abs=1e-9)


def test_twin_checks_know_how_each_model_can_respond_to_age(default_study_run: Path):
    """A model that sees age directly (the per-band thresholds) is shown, not rated, on
    the twin parts; a rule set whose twins never move (suining: none of the inputs the
    age path changes) must show exactly the missed risk; the others are rated on the
    path."""
    from scorelab.truth.planted import _SEES_AGE
    v = json.loads((default_study_run / "validity.json").read_text())
    fairness = json.loads((default_study_run / "fairness.json").read_text())
    twins = "twins: score change of the youngest band made older"
    response = "response to age through the inputs, beyond true risk (twins)"
    rows = {(c["model"], c["analysis"]): c for c in v["checks"]}
    for analysis in (twins, response):
        row = rows[("lightgbm_age_thresholds", analysis)]
        assert row["passed"] is None and row["expected"] == _SEES_AGE
    still = [m for m, e in fairness["models"].items()
             if all(r["mean_delta_score"] == 0 for r in e["age"]["twin_effects"])]
    assert "suining" in still
    for model in still:
        row = rows[(model, response)]
        assert row["expected"].startswith(f"interval covers {row['planted_value']:+.1f}")
        assert row["passed"] is (row["low"] <= row["planted_value"] <= row["high"])
    moved = rows[("lightgbm", response)]
    assert moved["expected"].startswith("interval below") and moved["passed"] is not None
    # the summary row holds most models to "below", says the values are each model's
    # own, and that some models are held to another expectation
    summary = next(r for r in v["by_analysis"] if r["analysis"] == response)
    assert summary["expected"].startswith("interval below")
    assert "each model against its own value" in summary["expected"]
    assert f"{len(still) + 1} of {len(fairness['models'])} models held to another" \
        in summary["expected"]
    # the report's verdict counts the model it did not rate
    twin_row = next(r for r in v["by_analysis"] if r["analysis"] == twins)
    assert twin_row["unrated"] == 1
    assert "; 1 not rated)" in (default_study_run / "report.md").read_text()
