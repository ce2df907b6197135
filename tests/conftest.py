"""Shared fixtures: small configs and populations that tests can afford."""

from __future__ import annotations

import fcntl
import os

# One BLAS thread per test process: `make test` runs one pytest worker per core, so a
# second BLAS thread only competes for a busy core (a small least-squares solve or matrix
# product then waits milliseconds on its helper thread, hundreds of times slower). Set
# before numpy loads, so the subprocesses (CLI runs, the notebook's kernel) inherit it;
# the model fits already run on one thread (threadpool_limits in the engine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scorelab.config import ExperimentConfig, config_from_dict

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"
GERMAN_CONFIG = ROOT / "configs" / "german_credit.yaml"


def make_config(overrides: dict[str, Any] | None = None, n: int = 20_000,
                seed: int = 7) -> ExperimentConfig:
    """A config with ``n`` citizens and nested ``overrides`` merged into the defaults."""
    raw: dict[str, Any] = {"seed": seed, "population": {"n_citizens": n}}
    _merge(raw, overrides or {})
    return config_from_dict(raw)


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@pytest.fixture
def default_config_path() -> Path:
    return DEFAULT_CONFIG


def once_per_session(tmp_path_factory: pytest.TempPathFactory, name: str,
                     build: Callable[[Path], Path]) -> Path:
    """Build a read-only session artifact once, even when pytest-xdist runs workers.

    The first worker builds it under a lock in the folder every worker of the session
    shares; the others wait for the lock and reuse it. A failed build leaves nothing,
    so the next worker tries again (and fails the same way, visibly).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, above each worker's own
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / f"{name}.path"
        if not done.exists():
            built = build(root / name)
            done.write_text(str(built))
        return Path(done.read_text())


@pytest.fixture(scope="session")
def german_study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """German credit's study (configs/german_credit.yaml: every model, the audit, reasons,
    saved final models, the report in every format) with fewer folds, replicates and
    explained applicants, run once per session and shared by the report, the reasons
    and the consistency tests (read-only: copy it to change it)."""
    from scorelab.config import load_config
    from scorelab.study.runner import run

    config = load_config(GERMAN_CONFIG, {
        "evaluation.folds": 2, "evaluation.bootstrap": 20, "fairness.bootstrap": 20,
        "explain.sample_size": 100, "explain.agnostic_sample_size": 8,
        "explain.background_size": 12, "explain.reasons.bootstrap_refits": 0,
        # the two cross-fitted hybrids on 2 inner folds: the same families, fewer fits
        "models.6.params.inner_folds": 2, "models.8.params.inner_folds": 2,
        "output.save_models": "final"})
    assert [config.models[i].name for i in (6, 8)] == ["yim_mitchell", "stacking"]

    def build(folder: Path) -> Path:
        result = run(config, runs_dir=folder)
        assert result.run_dir is not None
        return result.run_dir

    return once_per_session(tmp_path_factory, "german-study", build)


@pytest.fixture(scope="session")
def default_study_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default study (configs/default.yaml: every family, ablation and mitigation,
    explanations and the fairness audit) on a small population, run once per session and
    shared by the report, browser, reasons and consistency tests (read-only)."""
    from scorelab.config import load_config
    from scorelab.study.runner import run

    config = load_config(DEFAULT_CONFIG, {
        "population.n_citizens": 1200, "evaluation.folds": 3, "evaluation.bootstrap": 20,
        "fairness.bootstrap": 20, "explain.sample_size": 80,
        "explain.agnostic_sample_size": 12, "explain.background_size": 12,
        # the two cross-fitted hybrids on 2 inner folds: the same families, half the fits
        "models.6.params.inner_folds": 2, "models.8.params.inner_folds": 2,
        "output.save_models": "final"})  # the reasons tests score with the final models
    assert [config.models[i].name for i in (6, 8)] == ["yim_mitchell", "stacking"]

    def build(folder: Path) -> Path:
        result = run(config, runs_dir=folder)
        assert result.run_dir is not None
        return result.run_dir

    return once_per_session(tmp_path_factory, "default-study", build)
