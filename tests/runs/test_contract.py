"""The run directory as a contract: saved models reproduce the study, every artifact is
validated on load, and a damaged directory is one line naming the file."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scorelab.exceptions import DataError
from scorelab.models.persist import load_model
from scorelab.report import build_report
from scorelab.runs import FORMAT_VERSION, load_run
from scorelab.runs.contract import JSON_ARTIFACTS, REQUIRED_ARTIFACTS
from scorelab.applicants.score import check_applicants
from scorelab.study.runner import StudyResult

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


def test_fold_models_reproduce_the_predictions_bit_for_bit(run_dir: Path) -> None:
    run = load_run(run_dir)
    population = run.population()
    for info in run.study.models:
        manifest = run.model_manifest(info.name)
        X = check_applicants(population, manifest.inputs, "population")
        mine = run.predictions[(run.predictions["model"].astype(str) == info.name)
                               & (run.predictions["repeat"] == 0)]
        mine = mine.set_index("citizen_id").reindex(population["citizen_id"])
        assert sorted(manifest.folds) == [f"r0f{k}" for k in range(run.study.folds)]
        for key, file in manifest.folds.items():
            fold = int(key.split("f")[1])
            rows = np.flatnonzero(mine["fold"].to_numpy() == fold)
            p = load_model(run_dir / file).predict_proba(X.iloc[rows])[:, 1]
            assert np.array_equal(p, mine["p_default"].to_numpy()[rows]), (info.name, key)


def test_final_models_reload_identically(study: StudyResult, run_dir: Path) -> None:
    run = load_run(run_dir)
    X_all = run.population()
    for name, fitted in study.final_models.items():
        manifest = run.model_manifest(name)
        X = check_applicants(X_all, manifest.inputs, "population")
        loaded = load_model(run_dir / manifest.final)
        assert np.array_equal(loaded.predict_proba(X), fitted.predict_proba(X)), name


def test_scorecard_points_are_the_runs_scores(study: StudyResult, run_dir: Path) -> None:
    """A credit team adding up the points table gets the run's score (unclipped range)."""
    run = load_run(run_dir)
    model = study.final_models["scorecard"]
    X = check_applicants(run.population(), run.model_manifest("scorecard").inputs, "x")
    scale = run.study.scale
    p = model.predict_proba(X)[:, 1]
    score = scale.base_score + scale.factor * (np.log((1 - p) / p) - np.log(scale.base_odds))
    inside = (score > scale.low) & (score < scale.high)
    assert inside.mean() > 0.9
    assert np.allclose(model.points(X)[inside], score[inside], atol=1e-6)


def test_every_model_has_its_card_and_deliverables(run_dir: Path) -> None:
    for name in ("suining", "scorecard", "lightgbm", "mlp"):
        folder = run_dir / "models" / name
        card = json.loads((folder / "card.json").read_text())
        assert card["name"] == name and card["inputs"] and card["out_of_fold_metrics"]["auc"]
        assert (folder / "card.md").read_text().startswith(f"# Model card: {name}")
    points = pd.read_csv(run_dir / "models" / "scorecard" / "points_table.csv")
    binning = pd.read_csv(run_dir / "models" / "scorecard" / "binning.csv")
    assert {"variable", "bin", "woe", "points"} <= set(points.columns)
    assert set(binning["variable"]) >= set(points["variable"])
    assert (binning["information_value"] >= 0).all()
    rules = pd.read_csv(run_dir / "models" / "suining" / "rules.csv")
    assert rules.loc[rules["column"] == "unpaid_debts", "points"].iloc[0] == -50
    assert list((run_dir / "models" / "lightgbm").glob("**/*.booster.txt"))


def test_no_pickle_is_written(run_dir: Path) -> None:
    for path in run_dir.rglob("*"):
        if not path.is_file():
            continue
        assert path.suffix not in {".pkl", ".pickle", ".joblib"}, path
        head = path.read_bytes()[:2]
        assert not (head[:1] == b"\x80" and head[1:2] in {b"\x02", b"\x03", b"\x04", b"\x05"}), \
            f"{path} starts like a pickle"
        if path.suffix == ".skops":
            with zipfile.ZipFile(path) as archive:
                assert all(not n.endswith((".pkl", ".pickle")) for n in archive.namelist())


def test_manifest_lists_every_file_and_the_format(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION and manifest["status"] == "complete"
    on_disk = sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*")
                     if p.is_file() and p.relative_to(run_dir).parts[0] != "tables")
    assert on_disk == manifest["artifacts"]
    assert (run_dir / "tables" / "leaderboard.csv").is_file()  # the report's, unlisted


def test_json_artifacts_hold_no_nan(run_dir: Path) -> None:
    for path in run_dir.rglob("*.json"):
        json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path}: {c}"))


def test_report_renders_from_a_copy_in_another_folder(run_copy: Path) -> None:
    paths = build_report(run_copy)
    html = paths.html.read_text()
    assert "Points table" in html and "information value" in html
    data = json.loads(paths.json.read_text())
    assert {"explanations", "fairness", "age"} <= {s["id"] for s in data["sections"]}
    assert "Reasons for three example applicants" in paths.md.read_text()
    assert str(run_copy) in paths.html.as_posix()


@pytest.mark.parametrize("artifact", REQUIRED_ARTIFACTS)
def test_missing_required_artifact_is_one_line(run_copy: Path, artifact: str) -> None:
    (run_copy / artifact).unlink()
    with pytest.raises(DataError, match=re.escape(artifact)) as info:
        load_run(run_copy)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", list(JSON_ARTIFACTS))
def test_corrupt_json_artifact_is_one_line(run_copy: Path, name: str) -> None:
    (run_copy / name).write_text("{not json")
    with pytest.raises(DataError, match=re.escape(name)) as info:
        load_run(run_copy)
    assert "\n" not in str(info.value)


def test_a_field_that_breaks_the_contract_is_named(run_copy: Path) -> None:
    metrics = json.loads((run_copy / "metrics.json").read_text())
    metrics["models"]["lightgbm"]["observed"] = "very good"
    (run_copy / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(DataError, match=r"metrics\.json: field 'models\.lightgbm\.observed'"):
        load_run(run_copy)


def test_a_damaged_parquet_artifact_is_named(run_copy: Path) -> None:
    (run_copy / "predictions.parquet").write_bytes(b"PAR1 broken")
    with pytest.raises(DataError, match="predictions.parquet: not a readable Parquet"):
        load_run(run_copy)


def test_a_parquet_artifact_without_a_column_is_named(run_copy: Path) -> None:
    table = pd.read_parquet(run_copy / "predictions.parquet").drop(columns="p_default")
    table.to_parquet(run_copy / "predictions.parquet")
    with pytest.raises(DataError, match="predictions.parquet: lacks column.s. p_default"):
        load_run(run_copy)


@pytest.mark.parametrize("version", [1, FORMAT_VERSION - 1, FORMAT_VERSION + 1, None])
def test_another_format_version_is_refused(run_copy: Path, version: int | None) -> None:
    manifest = json.loads((run_copy / "manifest.json").read_text())
    manifest["format_version"] = version
    (run_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match=r"manifest\.json: format_version .* not supported"):
        load_run(run_copy)


def test_an_unfinished_directory_is_refused(run_copy: Path) -> None:
    unfinished = run_copy.rename(run_copy.with_name(".incomplete-" + run_copy.name))
    with pytest.raises(DataError, match="unfinished"):
        load_run(unfinished)


def test_an_untrusted_model_file_is_refused_in_one_line(run_copy: Path) -> None:
    import skops.io as sio
    from sklearn.dummy import DummyClassifier

    file = run_copy / load_run(run_copy).model_manifest("lightgbm").folds["r0f0"]
    sio.dump(DummyClassifier().fit([[0], [1]], [0, 1]), file)
    with pytest.raises(DataError, match="untrusted") as info:
        load_model(file)
    assert "\n" not in str(info.value)
