"""A tiny deterministic study, run once per test session, for the report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scorelab.study.runner import run
from tests.conftest import make_config, once_per_session

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


@pytest.fixture(scope="session")
def default_study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default study (configs/default.yaml: every family, ablation and mitigation,
    explanations and the fairness audit) on a small population, run once per session."""
    from scorelab.config import load_config
    from tests.conftest import DEFAULT_CONFIG

    config = load_config(DEFAULT_CONFIG, {
        "population.n_citizens": 1200, "evaluation.folds": 3, "evaluation.bootstrap": 20,
        "fairness.bootstrap": 20, "explain.sample_size": 80,
        "explain.agnostic_sample_size": 12, "explain.background_size": 12,
        # the two cross-fitted hybrids on 2 inner folds: the same families, half the fits
        "models.6.params.inner_folds": 2, "models.8.params.inner_folds": 2,
        "output.save_models": "none"})
    assert [config.models[i].name for i in (6, 8)] == ["yim_mitchell", "stacking"]

    def build(folder: Path) -> Path:
        result = run(config, runs_dir=folder)
        assert result.run_dir is not None
        return result.run_dir

    return once_per_session(tmp_path_factory, "default-study", build)
