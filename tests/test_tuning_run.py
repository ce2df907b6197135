"""A tuned study end to end: tuning.json in the run directory (through the validating
reader) holds the parameters each fold model was fitted with, and the report states the
budget and flags the model compared untuned."""

from __future__ import annotations

from pathlib import Path

import pytest
from skops.io import get_untrusted_types, load

from scorelab.config import config_from_dict
from scorelab.runs import load_run
from scorelab.study.runner import run

BUDGET = 2
#: The MLP is capped at 5 epochs so that its inner fits stop at the limit: the search
#: counts them, and its final fold fits warn as scikit-learn does.
pytestmark = [pytest.mark.heavy,  # runs studies: not in `make check`
              pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = config_from_dict({
        "name": "tuned", "seed": 4, "population": {"n_citizens": 500},
        "models": [{"family": "trees", "name": "lightgbm", "search_space": {
                       "n_estimators": {"low": 20, "high": 50},
                       "num_leaves": {"low": 3, "high": 7}}},
                   {"family": "expert", "name": "suining"},
                   {"family": "neural", "name": "mlp", "params": {"max_iter": 5}}],
        "evaluation": {"folds": 2, "bootstrap": 20, "n_jobs": 1,
                       "tuning": {"budget": BUDGET, "inner_folds": 2}},
        "explain": {"enabled": False}, "fairness": {"enabled": False},
        "output": {"save_models": "folds"}, "report": {"formats": ["md"]}})
    return run(config, runs_dir=tmp_path_factory.mktemp("runs")).run_dir


def test_tuning_json_holds_the_parameters_of_every_fold_model(run_dir: Path) -> None:
    tuning = load_run(run_dir).tuning
    assert tuning["enabled"] and tuning["budget"] == BUDGET
    lgbm = tuning["models"]["lightgbm"]
    assert lgbm["status"] == "tuned" and len(lgbm["folds"]) == 2
    for entry in lgbm["folds"]:
        assert entry["n_trials"] == BUDGET == len(entry["trials"])
        path = run_dir / "models" / "lightgbm" / "folds" / f"r0f{entry['fold']}.skops"
        model = load(path, trusted=get_untrusted_types(file=path))
        assert {k: model.get_params()[k] for k in entry["params"]} == entry["params"]
    assert tuning["models"]["suining"]["status"] == "untuned"


def test_the_report_states_the_budget_and_flags_the_untuned(run_dir: Path) -> None:
    text = (run_dir / "report.md").read_text()
    assert "Tuning: the same budget for every family" in text
    assert f"{BUDGET} candidate configurations per outer fold" in text
    assert "suining was compared untuned: expert/suining declares no search space" in text
    assert (run_dir / "tables" / "tuning.csv").is_file()
    # inner fits that ended at max_iter, counted from tuning.json: every one of the
    # capped MLP's, none of the trees'
    fits = 2 * BUDGET * 2  # outer folds x trials x inner folds
    assert f"| mlp | tuned | {BUDGET} | 2 inner folds, metric auc | {fits} of {fits} |" in text
    assert f"| lightgbm | tuned | {BUDGET} | 2 inner folds, metric auc | 0 of {fits} |" in text
