"""`scorelab score` and `scorelab explain` read a run directory only: anyone of the run is
explained by the fold model that held them out, new applicants by the final model, and
every bad table is one line with nothing written."""

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
from scorelab.applicants.explain import explain_citizen
from scorelab.runs import load_run

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

runner = CliRunner()
BAD = Path(__file__).parents[1] / "bad_inputs" / "score"
CASES = yaml.safe_load((BAD / "expected.yaml").read_text())


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


@pytest.mark.parametrize("model", ["suining", "scorecard", "lightgbm", "mlp"])
def test_explain_works_for_citizens_outside_the_audit_sample(run_dir: Path, model: str) -> None:
    run = load_run(run_dir)
    audited = set(run.explanations.loc[run.explanations["model"] == model, "citizen_id"])
    first = run.predictions[(run.predictions["model"] == model) & (run.predictions["repeat"] == 0)]
    others = first[~first["citizen_id"].isin(audited)]
    picks = others.sample(3, random_state=1)
    for row in picks.itertuples():
        letter = explain_citizen(run_dir, int(row.citizen_id), model)
        assert letter.source.startswith("fold model r0f")
        rows = letter.rows
        total = rows["base_value"].iloc[0] + rows["shap"].sum()
        assert total == pytest.approx(rows["output"].iloc[0], abs=1e-9)
        assert rows["output"].iloc[0] == pytest.approx(_logit(row.p_default), abs=1e-6)
        assert letter.score == pytest.approx(row.score)


def test_an_audited_citizen_reads_the_saved_explanation(run_dir: Path) -> None:
    run = load_run(run_dir)
    citizen = int(run.explanations.loc[run.explanations["model"] == "lightgbm",
                                       "citizen_id"].iloc[0])
    saved = explain_citizen(run_dir, citizen, "lightgbm")
    assert saved.source == "audit sample"


def test_on_demand_explanation_equals_the_studys_for_exact_explainers(run_dir: Path,
                                                                     tmp_path: Path) -> None:
    """Recomputing an audited citizen on demand gives the values the study wrote."""
    import shutil

    copy = Path(shutil.copytree(run_dir, tmp_path / run_dir.name))
    run = load_run(copy)
    expl = run.explanations
    citizen = int(expl.loc[expl["model"] == "scorecard", "citizen_id"].iloc[0])
    saved = expl[(expl["citizen_id"] == citizen) & (expl["model"] == "scorecard")]
    fresh = expl[expl["citizen_id"] != citizen]
    fresh.to_parquet(copy / "explanations.parquet", index=False)
    again = explain_citizen(copy, citizen, "scorecard")
    assert again.source.startswith("fold model")
    merged = saved.set_index("feature")["shap"].astype(float)
    assert np.allclose(again.rows.set_index("feature")["shap"].reindex(merged.index), merged,
                       atol=1e-12)


def test_explain_cli_json_and_text(run_dir: Path) -> None:
    citizen = int(load_run(run_dir).predictions["citizen_id"].iloc[-1])
    result = runner.invoke(app, ["explain", str(run_dir), "--citizen", str(citizen), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["citizen_id"] == citizen and "explained_by" in data
    assert isinstance(data["score"], int) and data["score"] == round(data["score_exact"])
    for reason in data["reasons"] + data["favourable"]:  # points beside the log-odds
        assert reason["points"] == pytest.approx(-reason["log_odds"] * data["points_per_log_odds"],
                                                 abs=1e-3)
    text = runner.invoke(app, ["explain", str(run_dir), "--citizen", str(citizen),
                               "--model", "scorecard"])
    assert text.exit_code == 0 and "Decision:" in text.stdout


def test_explain_a_new_applicant_from_a_table(run_dir: Path) -> None:
    result = runner.invoke(app, ["explain", str(run_dir), "--table",
                                 str(BAD / "ok_with_extra.csv"), "--row", "2",
                                 "--model", "lightgbm", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["explained_by"] == "final model" and data["model"] == "lightgbm"
    from scorelab.applicants.explain import explain_applicant

    letter = explain_applicant(run_dir, BAD / "ok_with_extra.csv", 2, "lightgbm")
    rows = letter.rows
    assert rows["base_value"].iloc[0] + rows["shap"].sum() == pytest.approx(
        rows["output"].iloc[0], abs=1e-9)
    assert data["score"] == round(letter.score)
    assert data["score_exact"] == pytest.approx(letter.score)


def test_score_writes_probabilities_decisions_and_reasons(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.parquet"
    result = runner.invoke(app, ["score", str(run_dir), str(BAD / "ok_with_extra.csv"),
                                 "--out", str(out), "--model", "scorecard", "--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    assert "ignored column(s)" in result.stdout and "health_events" in result.stdout
    scored = pd.read_parquet(out)
    applicants = pd.read_csv(BAD / "ok_with_extra.csv")
    assert len(scored) == len(applicants)
    assert list(scored["citizen_id"]) == list(applicants["citizen_id"])
    run = load_run(run_dir)
    cutoff = run.model_manifest("scorecard").cutoff_score
    assert (scored["approved"] == (scored["score"] >= cutoff)).all()
    assert scored["p_default"].between(0, 1).all()
    # the study's own citizens, scored by the final model, match its out-of-fold scores
    # only roughly (different training rows), but the reasons are real features
    reasons = scored["reason_1"].dropna()
    assert set(reasons) <= set(run.study.models[1].inputs)
    assert (scored["reason_1_points"].dropna() < 0).all()


def test_score_gives_the_mlp_reasons_without_a_flag(run_dir: Path, tmp_path: Path) -> None:
    """Reasons come from every family by default: a network's are stated, not withheld."""
    out = tmp_path / "mlp.csv"
    result = runner.invoke(app, ["score", str(run_dir), str(BAD / "ok_with_extra.csv"),
                                 "--out", str(out), "--model", "mlp"])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    declined = scored[~scored["approved"]]
    assert "reason_1" in scored.columns and "--sampled-reasons" not in result.output
    assert declined["reason_1"].notna().all()
    assert (declined["reason_1_points"] < 0).all()
    assert (scored.loc[scored["approved"], "reason_1"].isna()).all()
    off = tmp_path / "none.csv"
    result = runner.invoke(app, ["score", str(run_dir), str(BAD / "ok_with_extra.csv"),
                                 "--out", str(off), "--model", "mlp", "--reasons", "0"])
    assert result.exit_code == 0, result.output
    assert not any(c.startswith("reason_") for c in pd.read_csv(off).columns)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_score_input_is_one_line_and_writes_nothing(run_dir: Path, tmp_path: Path,
                                                        case: str) -> None:
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["score", str(run_dir), str(BAD / case), "--out", str(out),
                                 "--model", "lightgbm"])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(CASES[case], lines[0]), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_score_refuses_to_overwrite(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "keep.csv"
    out.write_text("precious\n")
    result = runner.invoke(app, ["score", str(run_dir), str(BAD / "ok_with_extra.csv"),
                                 "--out", str(out)])
    assert result.exit_code == 1 and "exists" in result.stderr
    assert out.read_text() == "precious\n"


def test_score_streams_in_chunks_with_the_same_result(run_dir: Path, tmp_path: Path) -> None:
    """Chunks of one row give what one chunk gives; a bad value in a late chunk is
    found before anything is written, named by its row in the whole table."""
    applicants = pd.read_csv(BAD / "ok_with_extra.csv")
    big = pd.concat([applicants] * 40, ignore_index=True)
    big.to_parquet(tmp_path / "many.parquet")
    outs = []
    for chunk in ("7", "100000"):
        out = tmp_path / f"out-{chunk}.parquet"
        result = runner.invoke(app, ["score", str(run_dir), str(tmp_path / "many.parquet"),
                                     "--out", str(out), "--model", "lightgbm",
                                     "--chunk-size", chunk])
        assert result.exit_code == 0, result.output
        outs.append(pd.read_parquet(out))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert list(outs[0]["row"]) == list(range(1, len(big) + 1))
    big["income"] = big["income"].astype(object)
    big.loc[150, "income"] = "lots"
    big.to_csv(tmp_path / "late.csv", index=False)
    out = tmp_path / "late-out.csv"
    result = runner.invoke(app, ["score", str(run_dir), str(tmp_path / "late.csv"), "--out",
                                 str(out), "--chunk-size", "7"])
    assert result.exit_code == 1 and "row 151 holds 'lots'" in result.stderr
    assert not out.exists() and not list(tmp_path.glob(".late-out*"))
