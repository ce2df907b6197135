"""Planning the cells (no study runs): each dataset's study gets the benchmark's models
with its own changes, the overrides in order (the dataset's win), the cell's seed and
its own folder; a cell's identity ignores what changes no number."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scorelab.benchmark.cells import plan_cells, study_identity
from scorelab.benchmark.config import benchmark_from_dict
from scorelab.cli.commands import app
from scorelab.config import apply_overrides

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _bench() -> dict:
    return {"name": "plan", "seeds": [3, 5],
            "datasets": [
                {"name": "plain", "config": "default.yaml"},
                {"name": "tuned", "config": "default.yaml",
                 "overrides": {"evaluation.folds": 4},
                 "models": {"boost": {"params": {"learning_rate": 0.2}}}}],
            "models": [{"family": "logit", "name": "scorecard"},
                       {"family": "trees", "name": "boost", "kind": "lightgbm",
                        "params": {"n_estimators": 30}}],
            "overrides": {"evaluation.folds": 3, "explain.enabled": False}}


def test_cells_get_models_overrides_seed_and_folder(tmp_path: Path) -> None:
    cells = plan_cells(benchmark_from_dict(_bench(), "plan", CONFIGS), tmp_path)
    assert [(c.dataset, c.seed) for c in cells] == [("plain", 3), ("plain", 5),
                                                    ("tuned", 3), ("tuned", 5)]
    plain, tuned = cells[0].config, cells[2].config
    assert [m.name for m in plain.models] == ["scorecard", "boost"]
    assert plain.models[1].params == {"n_estimators": 30}
    assert tuned.models[1].params == {"n_estimators": 30, "learning_rate": 0.2}
    assert plain.evaluation.folds == 3 and tuned.evaluation.folds == 4  # the dataset's win
    assert not plain.explain.enabled
    assert cells[1].config.seed == 5 and cells[1].folder == tmp_path / "cells" / "plain" / \
        "seed-5"
    assert not tmp_path.joinpath("cells").exists()  # planning writes nothing


def test_identity_ignores_jobs_and_folder_but_not_numbers(tmp_path: Path) -> None:
    config = plan_cells(benchmark_from_dict(_bench(), "plan", CONFIGS), tmp_path)[0].config
    same = apply_overrides(config, {"evaluation.n_jobs": 2, "output.runs_dir": "elsewhere"})
    other = apply_overrides(config, {"population.n_citizens": 999})
    assert study_identity(same) == study_identity(config) != study_identity(other)


def test_datasets_command_lists_the_packaged_tables() -> None:
    result = CliRunner().invoke(app, ["datasets"])
    assert result.exit_code == 0, result.output
    for name in ("german_credit", "romanian_vub", "australian"):
        assert name in result.stdout
