"""A tiny deterministic study, run once per test session, for the report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scorelab.study.runner import run
from tests.conftest import make_config

#: Fast families only; explanations and fairness off so the run takes seconds.
TINY_MODELS = [{"family": "expert", "name": "suining", "kind": "suining"},
               {"family": "logit", "name": "scorecard", "kind": "scorecard"},
               {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                "params": {"n_estimators": 60}}]


def tiny_config(models: list[dict] | None = None) -> object:
    return make_config({"name": "tiny", "models": models or TINY_MODELS,
                        "evaluation": {"folds": 3, "bootstrap": 20, "n_jobs": 2},
                        "explain": {"enabled": False}, "fairness": {"enabled": False},
                        "report": {"title": "scorelab tiny study"}}, n=1500, seed=11)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run directory of the tiny study (do not modify: copy it)."""
    result = run(tiny_config(), runs_dir=tmp_path_factory.mktemp("runs"))
    assert result.run_dir is not None
    return result.run_dir


@pytest.fixture
def run_copy(tiny_run: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny run that a test may change."""
    return Path(shutil.copytree(tiny_run, tmp_path / tiny_run.name))
