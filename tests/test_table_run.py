"""A study on a user's own table: runs end to end, skips what needs truth or rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from scorelab.cli import app

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
