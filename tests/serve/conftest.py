"""A small runs folder for the workbench: two runs on the same citizens (four families,
then one other model), a damaged copy, an unfinished folder and a symlink out of the
folder; built once per session and never changed by a test (the tests check that)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from scorelab.study.runner import run
from tests.conftest import make_config
from tests.conftest import once_per_session

#: One model of each family the test run covers: rules, linear, trees, a network.
FAMILY_MODELS = [{"family": "expert", "name": "suining", "kind": "suining"},
                 {"family": "logit", "name": "scorecard", "kind": "scorecard"},
                 {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                  "params": {"n_estimators": 20}},
                 {"family": "neural", "name": "mlp", "kind": "mlp",
                  "params": {"hidden_layer_sizes": [6], "max_iter": 40}}]
#: The second run: the same citizens, one other tree model (its decisions differ).
OTHER_MODELS = [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                 "params": {"n_estimators": 60, "num_leaves": 7}}]
N, SEED = 400, 5
DAMAGED = "20200101-000000-damaged-0000000000"
UNFINISHED = ".incomplete-20200101-000000-x-1"
LINK = "outside-link"


def _config(name: str, models: list[dict]) -> object:
    return make_config({"name": name, "models": models,
                        "evaluation": {"folds": 3, "bootstrap": 0, "n_jobs": 2},
                        "explain": {"enabled": False}, "fairness": {"bootstrap": 0},
                        "output": {"save_models": "both"}}, n=N, seed=SEED)


def _build(folder: Path) -> Path:
    runs = folder / "runs"
    runs.mkdir(parents=True)
    first = run(_config("serve", FAMILY_MODELS), runs_dir=runs).run_dir
    run(_config("serve-other", OTHER_MODELS), runs_dir=runs)
    assert first is not None
    damaged = shutil.copytree(first, runs / DAMAGED)
    (Path(damaged) / "metrics.json").write_text("{not json")
    (runs / UNFINISHED).mkdir()
    outside = folder / "outside"
    shutil.copytree(first, outside / "run")
    (outside / "secret.txt").write_text("not for the workbench\n")
    os.symlink(outside / "run", runs / LINK)
    return runs


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runs folder (read-only for every test)."""
    return once_per_session(tmp_path_factory, "serve-runs", _build)


@pytest.fixture(scope="session")
def run_id(runs_dir: Path) -> str:
    return _by_name(runs_dir, "serve")


@pytest.fixture(scope="session")
def other_id(runs_dir: Path) -> str:
    return _by_name(runs_dir, "serve-other")


def _by_name(runs_dir: Path, study: str) -> str:
    for p in sorted(runs_dir.iterdir()):
        if p.is_dir() and not p.is_symlink() and p.name != DAMAGED \
                and not p.name.startswith(".") \
                and json.loads((p / "study.json").read_text())["name"] == study:
            return p.name
    raise LookupError(study)


@pytest.fixture(scope="session")
def client(runs_dir: Path):  # a TestClient: starlette is imported lazily
    from starlette.testclient import TestClient

    from scorelab.serve.app import create_app

    with TestClient(create_app(runs_dir), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: make check leaves these out
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every workbench test that reads the session's runs runs two studies first: heavy."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and "runs_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.heavy)
