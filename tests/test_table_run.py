"""A study on a user's own table: runs end to end, skips what needs truth or rules."""

from __future__ import annotations

import pytest
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from scorelab.cli.commands import app

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

runner = CliRunner()


def _table(path: Path, n: int = 900) -> None:
    rng = np.random.default_rng(0)
    age = rng.integers(18, 75, n)
    income = rng.lognormal(1.0, 0.4, n)
    late = rng.poisson(1.0, n)
    gender = rng.choice(["f", "m"], n)
    risk = -1.2 + 0.6 * late - 0.8 * np.log(income) + 0.02 * (40 - age)
    bad = rng.random(n) < 1 / (1 + np.exp(-risk))
    pd.DataFrame({"age": age, "income": income, "late": late, "gender": gender,
                  "sector": rng.choice(["a", "b", "c"], n),
                  "outcome": np.where(bad, "bad", "good")}).to_csv(path, index=False)


def test_table_study_runs_flags_protected_named_feature_and_skips_truth(tmp_path: Path) -> None:
    _table(tmp_path / "applicants.csv")
    config = {
        "name": "mytable", "seed": 1,
        "population": {"source": "table", "path": "applicants.csv", "target": "outcome",
                       "default_value": "bad", "protected": {"age": "continuous"},
                       "sources": {"income": "business", "late": "business"}},
        "models": [{"family": "expert", "name": "suining"},
                   {"family": "expert", "name": "suining_mine", "kind": "suining",
                    "params": {"rules": {"late": -40}}},
                   {"family": "logit", "name": "scorecard"},
                   {"family": "trees", "name": "lightgbm", "kind": "lightgbm"}],
        "evaluation": {"folds": 3, "bootstrap": 20},
        "explain": {"sample_size": 100},
        "fairness": {"attributes": ["age"], "intersections": [], "bootstrap": 20,
                     "min_group_size": 20},
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert "suining: skipped" in result.stdout
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["models"]) == {"suining_mine", "scorecard", "lightgbm"}
    assert "params.rules" in metrics["skipped_models"]["suining"]
    assert "no ground truth" in metrics["truth_analyses"]
    assert metrics["models"]["lightgbm"]["observed"]["auc"] > 0.6
    fairness = json.loads((run_dir / "fairness.json").read_text())
    flagged = {(f["check"], f["column"]) for f in fairness["policy_flags"]}
    assert ("feature_named_protected", "gender") in flagged
    assert (run_dir / "report.html").is_file()
    # a lender's applicants, not the seed paper's citizens on a social-credit scale
    report = (run_dir / "report.md").read_text()
    assert not re.search(r"\b[Cc]itizens?\b", report)
    assert "applicants" in report and "society scale" not in report.lower()


def _age_sex_table(path: Path, n: int = 300) -> None:
    """A table whose age is 'AGE' and sex 'Sex' (one missing), with no minority/region."""
    rng = np.random.default_rng(3)
    age = rng.integers(18, 76, n)
    income = rng.lognormal(1.0, 0.4, n)
    late = rng.poisson(1.0, n)
    records = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    risk = -1.0 + 0.5 * late - 0.8 * np.log(income) + 0.03 * (40 - age) \
        + 0.8 * (records == "yes")
    bad = rng.random(n) < 1 / (1 + np.exp(-risk))
    sex = rng.choice(["female", "male"], n).astype(object)
    sex[11] = None
    pd.DataFrame({"AGE": age, "Sex": sex, "income": income, "late": late,
                  "Records": records,
                  "outcome": np.where(bad, "bad", "good")}).to_csv(path, index=False)


def test_declared_age_column_gets_the_full_age_audit_and_only_declared_attributes(
        tmp_path: Path) -> None:
    _age_sex_table(tmp_path / "applicants.csv")
    # written by hand: `yes` must stay the text "yes" (YAML 1.1 would read it as true)
    (tmp_path / "study.yaml").write_text("""\
name: age_sex
seed: 2
population: {source: table, path: applicants.csv, target: outcome, default_value: bad,
             protected: {AGE: age, Sex: categorical}}
models:
  - {family: expert, name: suining, kind: suining, params: {rules: {Records: {yes: -100}}}}
  - {family: logit, name: scorecard}
  - {family: mitigation, name: fair_logit, kind: exponentiated_gradient,
     use_protected: [AGE], params: {max_iter: 5}}
evaluation: {folds: 3, bootstrap: 10}
explain: {sample_size: 60, agnostic_sample_size: 20, background_size: 10, max_evals: 40}
fairness: {bootstrap: 10, min_group_size: 20}
output: {save_models: none}
report: {society_scale: true}
""")
    result = runner.invoke(app, ["run", str(tmp_path / "study.yaml"), "--runs-dir",
                                 str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    resolved = yaml.safe_load((run_dir / "config.resolved.yaml").read_text())
    assert resolved["fairness"]["attributes"] == ["AGE", "Sex"]  # the table's own
    assert resolved["fairness"]["intersections"] == []
    assert resolved["models"][0]["params"]["rules"] == {"Records": {"yes": -100}}

    table = pd.read_csv(tmp_path / "applicants.csv")
    fairness = json.loads((run_dir / "fairness.json").read_text())
    assert fairness["thresholds"]["age_attribute"] == "AGE"
    assert fairness["thresholds"]["young_band"] == "AGE < 26"
    for name, entry in fairness["models"].items():
        assert set(entry["verdicts"]) == {"observed:AGE_band", "observed:Sex"}, name
        age = entry["age"]
        assert age["attribute"] == "AGE" and age["young_band"] == "AGE < 26"
        assert 0 < age["approval_young"] <= 1 and age["approval_ratio"] > 0
        years = [r["age"] for r in age["score_by_age"]]
        assert years == sorted(table["AGE"].unique())  # by year of AGE
        assert [r["cut"] for r in age["cut_sweep"]] == list(range(21, 36))
        missing = [g for g in entry["suppressed_groups"]
                   if g["attribute"] == "Sex" and g["group"] == "missing"]
        assert missing and "min_group_size" in missing[0]["reason"]
    assert {r["feature"] for r in fairness["proxy_audit"]} == {"income", "late", "Records"}
    assert {r["age_band"] for r in fairness["shap_by_age_band"]} >= {"18-25", "26-35"}
    assert len(fairness["label_cut_sweep"]["records"]) == 15

    groups = pd.read_parquet(run_dir / "fairness_by_group.parquet")
    assert set(groups["attribute"]) == {"AGE_band", "Sex"}
    assert set(groups.loc[groups["attribute"] == "Sex", "group"]) == {"female", "male",
                                                                       "missing"}
    assert set(groups.loc[groups["attribute"] == "AGE_band", "group"]) == {
        "18-25", "26-35", "36-50", "51-61", "62+"}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    scale = {r["attribute"] for r in metrics["models"]["scorecard"]["society_scale"]}
    assert scale == {"all", "AGE_band", "Sex"}
    card = json.loads((run_dir / "data_card.json").read_text())
    assert set(card["groups"]) == {"AGE_band", "Sex"}

    report = (run_dir / "report.md").read_text()
    assert "compared across the audited groups (AGE_band and Sex)" in report
    assert "Age ('AGE') gets its own audit" in report
    for absent in ("minority", "region", "age_band x", " x sex", "Sex x"):
        assert absent not in report, absent
    assert not re.search(r"\bsex\b", report)  # only the table's own spelling, Sex
    # one suppression rule everywhere: the one applicant of unknown sex is withheld in
    # the fairness tables (above), in the society scale the config asked for, and in
    # SHAP by age band (bands of fewer than 20 explained applicants)
    assert "society scale" in report.lower()
    assert re.search(r"\| Sex \| missing \| 1 \| withheld \(n = 1\)", report)
    bands = pd.DataFrame(fairness["shap_by_age_band"])
    small = sorted(set(bands.loc[bands["n_citizens"] < 20, "age_band"]))
    html = (run_dir / "report.html").read_text()
    if small:
        assert "SHAP by age band (withheld, fewer than 20 explained: " + small[0] in html


def test_missing_protected_drop_leaves_the_citizen_out_of_the_groups(tmp_path: Path) -> None:
    _age_sex_table(tmp_path / "applicants.csv")
    config = {
        "name": "drop", "seed": 2,
        "population": {"source": "table", "path": "applicants.csv", "target": "outcome",
                       "default_value": "bad", "protected": {"AGE": "age",
                                                             "Sex": "categorical"}},
        "models": [{"family": "logit", "name": "scorecard"}],
        "evaluation": {"folds": 3, "bootstrap": 0},
        "explain": {"enabled": False},
        "fairness": {"bootstrap": 0, "min_group_size": 20, "missing_protected": "drop",
                     "intersections": [["AGE", "Sex"]]},
        "output": {"save_models": "none"},
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["run", str(tmp_path / "study.yaml"), "--runs-dir",
                                 str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    groups = pd.read_parquet(run_dir / "fairness_by_group.parquet")
    assert set(groups["attribute"]) == {"AGE_band", "Sex", "AGE_band x Sex"}
    assert "missing" not in set(groups["group"].astype(str))
    sex = groups[(groups["attribute"] == "Sex") & (groups["metric"] == "approval_rate")]
    assert int(sex["n"].sum()) == 299  # 300 rows, one without a known Sex
    report = (run_dir / "report.md").read_text()
    assert "compared across the audited groups (AGE_band, Sex and AGE_band x Sex)" in report


def test_a_table_without_an_audited_age_has_no_age_analysis(tmp_path: Path) -> None:
    _age_sex_table(tmp_path / "applicants.csv")
    config = {
        "name": "no_age", "seed": 2,
        "population": {"source": "table", "path": "applicants.csv", "target": "outcome",
                       "default_value": "bad", "protected": {"AGE": "age",
                                                             "Sex": "categorical"}},
        "models": [{"family": "logit", "name": "scorecard"}],
        "evaluation": {"folds": 3, "bootstrap": 0},
        "explain": {"enabled": False},
        "fairness": {"bootstrap": 0, "attributes": ["Sex"]},
        "output": {"save_models": "none"},
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["run", str(tmp_path / "study.yaml"), "--runs-dir",
                                 str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    fairness = json.loads((run_dir / "fairness.json").read_text())
    assert "age" not in fairness["models"]["scorecard"]
    assert "age_attribute" not in fairness["thresholds"]
    assert "label_cut_sweep" not in fairness and not fairness["proxy_audit"]
    report = (run_dir / "report.md").read_text()
    assert "compared across the audited groups (Sex)" in report
    assert "no age analysis: no audited attribute is declared the age attribute" in report
    assert "## 5. Age" not in report and "<a id=\"age\">" not in report
