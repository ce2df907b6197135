"""The comparison run: artifacts, determinism, out-of-fold honesty, bad input."""

from __future__ import annotations

import re

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.config import ModelSpec, config_hash, load_config
from scorelab.study.population import population_for
from scorelab.engine import PreparedModel, fit_folds, make_folds
from scorelab.study.runner import run
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

runner = CliRunner()
SMALL_MODELS = [
    {"family": "expert", "name": "suining", "kind": "suining"},
    {"family": "logit", "name": "scorecard"},
    {"family": "trees", "name": "lightgbm", "kind": "lightgbm"},
]


def _study(tmp_path: Path, n: int = 1000, models: list | None = None, **extra) -> Path:
    # every stage runs (explanations, the audit, reasons), on fewer citizens and replicates
    raw = {"name": "t", "seed": 5, "population": {"n_citizens": n},
           "models": models or SMALL_MODELS,
           "evaluation": {"folds": 3, "bootstrap": 20, "n_jobs": 1},
           "explain": {"sample_size": 200}, "fairness": {"bootstrap": 20}, **extra}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _runs(tmp_path: Path) -> list[Path]:
    runs = tmp_path / "runs"
    return sorted(runs.iterdir()) if runs.exists() else []


def test_run_writes_every_artifact_and_prints_the_path_last(tmp_path: Path) -> None:
    study = _study(tmp_path)
    result = runner.invoke(app, ["run", str(study), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    digest = config_hash(load_config(study))
    assert run_dir.parent == tmp_path / "runs"
    assert re.fullmatch(rf"\d{{8}}-\d{{6}}-t-{digest[:8]}", run_dir.name), run_dir.name
    for name in ("config.resolved.yaml", "manifest.json", "predictions.parquet", "metrics.json",
                 "leaderboard.csv", "data_card.json"):
        assert (run_dir / name).is_file(), name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 5
    assert {"generate", "fit_predict", "metrics"} <= set(manifest["timings_seconds"])
    assert manifest["versions"]["lightgbm"]
    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    assert set(predictions.columns) >= {"citizen_id", "model", "family", "fold", "p_default",
                                        "score", "category"}
    assert len(predictions) == 3 * 1000
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert list(board["model"]) == list(board.sort_values("auc", ascending=False)["model"])
    assert "Leaderboard" in result.stdout
    assert [p.name for p in _runs(tmp_path)] == [run_dir.name]
    stages = [line.split(":")[0] for line in result.stderr.splitlines()]
    assert stages[:4] == ["generate", "splits", "fit_predict", "fit_final"], result.stderr


@pytest.mark.slow  # the default run checks determinism file by file in tests/report/test_compare.py
def test_same_config_gives_identical_metrics(tmp_path: Path) -> None:
    cfg = make_config({"models": SMALL_MODELS, "evaluation": {"folds": 3, "bootstrap": 30,
                                                              "n_jobs": 2},
                       "output": {"save_models": "none"}}, n=2000)
    a = run(cfg, runs_dir=tmp_path / "a")
    b = run(cfg, runs_dir=tmp_path / "b")
    assert json.dumps(a.metrics, sort_keys=True) == json.dumps(b.metrics, sort_keys=True)
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    assert a.run_dir != b.run_dir


def test_predictions_are_out_of_fold() -> None:
    """A 1-nearest-neighbour memoriser on the citizen id would be perfect in-sample."""
    cfg = make_config(n=2000)
    pop, _ = population_for(cfg)
    y = np.random.default_rng(0).integers(0, 2, len(pop.frame))
    folds = make_folds(y, 5, 2, seed=1)
    memoriser = PreparedModel(ModelSpec(family="trees", name="memo"),
                              KNeighborsClassifier(n_neighbors=1), ["citizen_id"])
    oof = fit_folds([memoriser], pop.frame, y, folds, n_jobs=2).oof["memo"]
    assert not np.isnan(oof).any()
    for repeat in range(2):
        assert abs(roc_auc_score(y, oof[repeat]) - 0.5) < 0.05
    in_sample = KNeighborsClassifier(n_neighbors=1).fit(pop.frame[["citizen_id"]], y)
    assert roc_auc_score(y, in_sample.predict_proba(pop.frame[["citizen_id"]])[:, 1]) == 1.0
    for repeat in range(2):
        tested = np.concatenate([f.test for f in folds if f.repeat == repeat])
        assert np.array_equal(np.sort(tested), np.arange(y.size))
    for f in folds:
        assert not np.intersect1d(f.train, f.test).size


def test_shuffled_labels_score_about_half() -> None:
    from scorelab.config import ModelSpec
    from scorelab.models.registry import build_model

    cfg = make_config(n=5000)
    pop, _ = population_for(cfg)
    y = np.random.default_rng(3).permutation(pop.frame["defaulted"].to_numpy())
    spec = ModelSpec(family="trees", name="lgbm", kind="lightgbm")
    model = PreparedModel(spec, build_model(spec), pop.features)
    oof = fit_folds([model], pop.frame, y, make_folds(y, 5, 1, 0), n_jobs=2).oof["lgbm"]
    assert abs(roc_auc_score(y, oof[0]) - 0.5) < 0.04


@pytest.mark.slow  # 50,000 citizens; benchmarks/bench_accuracy.py measures it at 20,000
def test_learned_families_near_the_oracle_and_above_expert_rules(tmp_path: Path) -> None:
    models = [{"family": "expert", "name": "suining", "kind": "suining"},
              {"family": "expert", "name": "sesame", "kind": "sesame"},
              {"family": "logit", "name": "scorecard"},
              {"family": "trees", "name": "lightgbm", "kind": "lightgbm"}]
    cfg = make_config({"models": models, "evaluation": {"folds": 5, "bootstrap": 0},
                       "explain": {"enabled": False}, "fairness": {"enabled": False},
                       "output": {"save_models": "none"}}, n=50_000)
    result = run(cfg, runs_dir=tmp_path)
    board = result.leaderboard.set_index("model")
    oracle = result.metrics["oracle"]["auc"]
    assert board["auc"].max() >= 0.97 * oracle
    best_expert = board.loc[["suining", "sesame"], "auc"].max()
    assert best_expert < board.loc[["scorecard", "lightgbm"], "auc"].min()
    assert board.loc["lightgbm", "auc_true"] > board.loc["lightgbm", "auc"] - 0.05


@pytest.mark.parametrize(
    ("models", "extra", "fragments"),
    [
        ([{"family": "astrology", "name": "x"}], {},
         ["models.0.family", "'astrology' is not a family; valid: expert"]),
        ([{"family": "trees", "name": "x", "kind": "lightgbm", "params": {"n_trees": 5}}], {},
         ["n_trees", "valid"]),
        ([{"family": "trees", "name": "x", "kind": "oak"}], {}, ["oak"]),
        ([{"family": "logit", "name": "a"}, {"family": "logit", "name": "a"}], {},
         ["unique", "a"]),
        ([{"family": "logit", "name": "a", "use_protected": ["true_pd"]}], {},
         ["use_protected", "true_pd"]),
        (SMALL_MODELS, {"evaluation": {"folds": 90}, "population": {"n_citizens": 300}},
         ["evaluation.folds=90", "defaulters"]),
        (SMALL_MODELS, {"population": {"n_citizens": 5, "true_default_rate": 0.001,
                                       "causes": {"label_bias": {"enabled": False}}}},
         ["one class"]),
        ([], {}, ["models", "list at least one model"]),
    ],
)
def test_bad_input_gives_one_line_and_no_run_directory(tmp_path: Path, models: list,
                                                       extra: dict, fragments: list) -> None:
    raw = {"seed": 5, "population": {"n_citizens": 1000}, "models": models,
           "evaluation": {"folds": 3, "bootstrap": 0, "n_jobs": 1}}
    for key, value in extra.items():
        raw[key] = {**raw.get(key, {}), **value}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = runner.invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    progress = re.compile(r"^\w+: \d+\.\d s$")  # piped output: one line per finished stage
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not progress.match(line)]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert _runs(tmp_path) == []


def test_a_failed_run_leaves_nothing_and_keeps_earlier_runs(tmp_path: Path,
                                                            monkeypatch) -> None:
    # the write is what fails: the stages before it need not run in full (one model, no
    # saved models, one report format: the earlier run is any complete run)
    cfg = make_config({"models": SMALL_MODELS[:1], "evaluation": {"folds": 3, "bootstrap": 0},
                       "explain": {"enabled": False}, "fairness": {"enabled": False},
                       "output": {"save_models": "none"}, "report": {"formats": ["md"]}},
                      n=600)
    first = run(cfg, runs_dir=tmp_path).run_dir
    before = {p: p.stat().st_mtime_ns for p in first.iterdir()}

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("scorelab.study.runner._write_artifacts", boom)
    with pytest.raises(RuntimeError):
        run(cfg, runs_dir=tmp_path)
    assert sorted(tmp_path.iterdir()) == [first]
    assert {p: p.stat().st_mtime_ns for p in first.iterdir()} == before
