"""One small study with every stage on and models saved, shared by the contract tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scorelab.study.runner import StudyResult, run
from tests.conftest import make_config

#: An exact explainer of each kind (rules, linear, tree) and one sampled (the MLP).
CONTRACT_MODELS = [{"family": "expert", "name": "suining", "kind": "suining"},
                   {"family": "logit", "name": "scorecard", "kind": "scorecard"},
                   {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": 40}},
                   {"family": "neural", "name": "mlp", "kind": "mlp",
                    "params": {"hidden_layer_sizes": [8], "max_iter": 60}}]


@pytest.fixture(scope="session")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyResult:
    cfg = make_config({"name": "contract", "models": CONTRACT_MODELS,
                       "evaluation": {"folds": 3, "bootstrap": 0, "n_jobs": 2},
                       "explain": {"sample_size": 40, "agnostic_sample_size": 10,
                                   "background_size": 20, "max_evals": 60},
                       "fairness": {"bootstrap": 0}}, n=1200, seed=5)
    return run(cfg, runs_dir=tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session")
def run_dir(study: StudyResult) -> Path:
    assert study.run_dir is not None
    return study.run_dir


@pytest.fixture
def run_copy(run_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the run, in another folder, that a test may damage."""
    return Path(shutil.copytree(run_dir, tmp_path / "elsewhere" / run_dir.name))
