"""Credit practice in a whole run: the cost policy decides
with each fold's own cut-off, every model approves the same share in the matched
comparison, the out-of-time fold holds the latest applications, the report says so, and
``scorelab stability`` gives a shifted table a red light."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.runs import load_run
from scorelab.study.runner import run
from tests.bad_inputs.harness import cases, error_line
from tests.conftest import make_config

runner = CliRunner()
CORPUS = Path(__file__).parent / "bad_inputs" / "stability"


@pytest.fixture(scope="module")
def practice_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run under the cost policy with an out-of-time split and drifting causes."""
    cfg = make_config({
        "name": "practice",
        "population": {"months": 12, "drift": 1.5},
        "models": [{"family": "expert", "name": "suining", "kind": "suining"},
                   {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": 20, "num_leaves": 7}}],
        "evaluation": {"folds": 3, "bootstrap": 50, "n_jobs": 1, "split": "time"},
        "explain": {"enabled": False},
        "fairness": {"bootstrap": 0, "attributes": ["age", "sex"], "intersections": []},
        "decision": {"policy": "cost", "costs": {"false_accept": 5, "false_reject": 1}},
        "report": {"formats": ["md", "json"]}, "output": {"save_models": "final"}},
        n=900, seed=5)
    result = run(cfg, runs_dir=tmp_path_factory.mktemp("practice"))
    assert result.run_dir is not None
    return result.run_dir


def test_the_cost_policy_judges_each_citizen_by_their_folds_cutoff(practice_run: Path
                                                                    ) -> None:
    data = load_run(practice_run)
    pred = data.predictions
    for name, entry in data.metrics["practice"]["models"].items():
        cost = entry["policies"]["cost"]
        part = pred[pred["model"] == name]
        want = part["fold"].map(lambda k: cost["fold_cutoffs"][f"r0f{k}"])
        np.testing.assert_allclose(part["cutoff"], want)
        np.testing.assert_array_equal(part["approved"], part["score"] >= part["cutoff"])
        assert data.metrics["models"][name]["decision"]["cutoff_score"] == pytest.approx(
            float(np.median(part["cutoff"])))
        row = data.leaderboard.set_index("model").loc[name]
        assert row["policy"] == "cost"
        assert row["approval_rate"] == pytest.approx(part["approved"].mean())
        assert row["expected_cost"] == pytest.approx(cost["expected_cost"])
        # the fairness audit judged the same decisions
        assert data.fairness["models"][name]["cutoff_score"] == pytest.approx(
            cost["cutoff_score"])


def test_expected_costs_are_computed_from_the_decisions(practice_run: Path) -> None:
    data = load_run(practice_run)
    pred = data.predictions
    for name, entry in data.metrics["practice"]["models"].items():
        part = pred[pred["model"] == name]
        bad, approved = part["defaulted"].to_numpy() == 1, part["approved"].to_numpy()
        cost = (5 * (bad & approved).sum() + (~bad & ~approved).sum()) / len(part)
        figures = entry["policies"]["cost"]
        assert figures["expected_cost"] == pytest.approx(cost)
        low, high = figures["expected_cost_interval"]
        assert low <= cost <= high
        fixed = entry["policies"]["cutoff"]
        assert fixed["approval_rate"] == pytest.approx((part["score"] >= 600).mean())


def test_every_model_approves_the_matched_share(practice_run: Path) -> None:
    data = load_run(practice_run)
    matched = data.fairness["matched_rate"]
    rate = data.metrics["practice"]["matched_approval_rate"]
    assert rate == pytest.approx(1 - data.metrics["default_rate"])
    assert matched["approval_rate"] == rate
    for name, entry in matched["models"].items():
        assert entry["approval_rate"] == pytest.approx(round(rate * 900) / 900)
        # the worst ratio's test is the two-proportion test of its attribute's extremes
        worst = min((d for d in entry["disparities"] if d["worst_approval_ratio"] is not None),
                    key=lambda d: d["worst_approval_ratio"])
        assert worst["worst_approval_ratio"] == entry["worst_approval_ratio"]
        assert entry["p_value"] == worst["p_value_approval"]
        assert 0.0 <= entry["p_value"] <= 1.0
        assert data.leaderboard.set_index("model").loc[name, "four_fifths_verdict_matched"] \
            == entry["four_fifths_verdict"]


def test_the_out_of_time_fold_holds_the_latest_applications(practice_run: Path) -> None:
    data = load_run(practice_run)
    assert data.study.folds == 4
    months = data.population().set_index("citizen_id")["application_month"]
    first = data.predictions[data.predictions["model"] == "suining"].set_index("citizen_id")
    month = months.reindex(first.index)
    assert month[first["fold"] == 3].min() > month[first["fold"] < 3].max()
    practice = data.metrics["practice"]
    assert practice["out_of_time_fold"] == 3
    for entry in practice["models"].values():  # one model scores both sides of a fold
        psis = {r["fold"]: r["psi"] for r in entry["score_stability"]}
        assert max(psis[k] for k in (0, 1, 2)) < 0.25  # never red on random folds
    # the drifted debt-to-income is the least stable input, shifted at the late fold
    top = practice["input_stability"][0]
    assert (top["column"], top["light"], top["fold"]) == ("debt_to_income", "red", 3)


def test_the_report_says_which_policy_decides(practice_run: Path) -> None:
    text = (practice_run / "report.md").read_text()
    assert "## 3. Credit practice: decisions, costs and stability" in text
    assert "Approvals in this run follow each fold's cost-minimising cut-off" in text
    assert "| suining | cost (decides) |" in text
    assert "fold 3 (out of time)" in text and "out of time: the latest" in text
    curve = pd.read_csv(practice_run / "tables" / "cost_curve.csv")
    assert set(curve["model"]) == {"suining", "lightgbm"}
    blocks = json.loads((practice_run / "report.json").read_text())["sections"]
    assert any(s["id"] == "practice" for s in blocks)


@pytest.fixture(scope="module")
def tables(practice_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    population = pd.read_parquet(practice_run / "population.parquet")
    same, shifted = folder / "same.csv", folder / "shifted.csv"
    population.to_csv(same, index=False)
    population.assign(debt_to_income=population["debt_to_income"] * 3).to_csv(shifted,
                                                                              index=False)
    return {"same": same, "shifted": shifted}


def test_stability_of_the_runs_own_citizens_is_green(practice_run: Path, tables) -> None:
    result = runner.invoke(app, ["stability", str(practice_run), str(tables["same"]),
                                 "--json"])
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)
    assert {r["light"] for r in check["scores"] + check["inputs"]} == {"green"}
    assert all(r["psi"] == 0 for r in check["scores"])


def test_a_shifted_table_gets_a_red_light(practice_run: Path, tables) -> None:
    """Must hold: tripled debt-to-income is red, and so is the score it drives."""
    result = runner.invoke(app, ["stability", str(practice_run), str(tables["shifted"]),
                                 "--json"])
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)
    inputs = {r["column"]: r["light"] for r in check["inputs"]}
    assert inputs["debt_to_income"] == "red"
    assert inputs["income"] == "green"
    assert {r["model"]: r["light"] for r in check["scores"]}["lightgbm"] == "red"
    shown = runner.invoke(app, ["stability", str(practice_run), str(tables["shifted"])])
    assert re.search(r"debt_to_income\s*│\s*\d+\.\d{3}\s*│\s*red", shown.stdout)


@pytest.mark.parametrize(("name", "pattern"), cases(CORPUS / "expected.yaml"))
def test_stability_refuses_a_bad_table_in_one_line(practice_run: Path, name: str,
                                                   pattern: str) -> None:
    before = sorted(p.name for p in practice_run.rglob("*"))
    result = runner.invoke(app, ["stability", str(practice_run), str(CORPUS / name)])
    error_line(result, pattern)
    assert sorted(p.name for p in practice_run.rglob("*")) == before


def test_stability_refuses_an_unknown_model_in_one_line(practice_run: Path, tables) -> None:
    result = runner.invoke(app, ["stability", str(practice_run), str(tables["same"]),
                                 "--model", "nothing"])
    error_line(result, "no model or family 'nothing' in this run")


def test_the_german_config_carries_its_own_cost_matrix() -> None:
    raw = yaml.safe_load((Path(__file__).parents[1] / "configs" / "german_credit.yaml")
                         .read_text())
    assert raw["decision"]["costs"] == {"false_accept": 5, "false_reject": 1}
