"""A study on a Dask LocalCluster of 2 worker processes (loopback) against the local one.

The default run uses 2,000 citizens (no fairness stage: the counts are the backend's;
explanations of 100 citizens on the dask run only, no adverse-action reasons); a
200,000-citizen version is marked slow. Both check the same properties: the study completes, its
count-based decision metrics equal the local computation on the same predictions,
LightGBM's AUC is within 0.005 of the local backend's, and no worker process outlives
the study. Where the time goes (2 cores): starting the cluster's two worker processes
(their imports, done once by the fork server: scorelab.engine.dask.cluster), then the
two distributed LightGBM fits; scorelab starts the cluster itself, as a user's run does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

pytest.importorskip("distributed")

from scorelab.fairness.decisions import DECISION_RATES  # noqa: E402
from scorelab.config import age_attribute, config_from_dict  # noqa: E402
from scorelab.data.groups import group_column  # noqa: E402
from scorelab.evaluate.metrics import metric_table  # noqa: E402
from scorelab.runs import load_run  # noqa: E402
from scorelab.study.runner import StudyResult, run  # noqa: E402


def _config(n: int, backend: str, sample_size: int, trees: int) -> Any:
    return config_from_dict({
        "name": f"dask-{backend}", "seed": 5, "population": {"n_citizens": n},
        "models": [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": trees}},
                   {"family": "expert", "name": "suining", "kind": "suining"}],
        "evaluation": {"folds": 2, "bootstrap": 0, "n_jobs": 1},
        "explain": {"enabled": backend == "dask", "sample_size": 100,
                    "agnostic_sample_size": 20, "reasons": {"enabled": False}},
        "fairness": {"enabled": n > 10_000, "attributes": ["age", "sex"],
                     "intersections": [], "bootstrap": 0},
        "output": {"save_models": "none"}, "report": {"formats": ["md"]},
        "compute": {"backend": backend, "sample_size": sample_size,
                    "dask": {"n_workers": 2, "threads_per_worker": 1,
                             "memory_limit": "1GiB"}}})


def _workers_alive() -> list[str]:
    """The cluster's processes still alive: those forked by multiprocessing's fork server
    (which itself lives as long as this interpreter and holds no worker) or naming dask.

    joblib's reusable loky workers, left by other tests in this process, are not the
    cluster's and are not counted.
    """
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
            parent = child.parent()
            forked = parent is not None and "forkserver" in " ".join(parent.cmdline())
        except psutil.Error:
            continue
        if "forkserver" not in cmd and (forked or "distributed" in cmd or "dask" in cmd):
            alive.append(f"{child.pid} {cmd}")
    return alive


def _studies(tmp: Path, n: int, sample_size: int, trees: int
             ) -> tuple[StudyResult, StudyResult]:
    on_dask = run(_config(n, "dask", sample_size, trees), runs_dir=tmp)
    local = run(_config(n, "local", sample_size, trees), runs_dir=tmp)
    for result in (on_dask, local):  # where the time goes (pytest -s shows it)
        print(result.config.compute.backend, {k: round(v, 1) for k, v in result.timings.items()})
    return on_dask, local


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyResult, StudyResult]:
    return _studies(tmp_path_factory.mktemp("runs"), 2_000, 700, 40)


def _auc_gap(on_dask: StudyResult, local: StudyResult) -> float:
    gap = abs(on_dask.metrics["models"]["lightgbm"]["observed"]["auc"]
              - local.metrics["models"]["lightgbm"]["observed"]["auc"])
    print(f"LightGBM AUC, dask minus local: {gap:.5f}")
    return gap


def _check_counts(result: StudyResult) -> None:
    """The merged partition counts equal the one-pass figures on the same predictions."""
    counts = result.study.compute["decision_counts"]
    frame, config = result.population.frame, result.config
    first = result.predictions[result.predictions["repeat"] == 0]
    for name in ("lightgbm", "suining"):
        rows = first[first["model"] == name]
        y, p, ok = (rows["defaulted"].to_numpy(), rows["p_default"].to_numpy(),
                    rows["approved"].to_numpy())
        one_pass = metric_table(y, p, ok)
        for rate in ("approval_rate", "default_rate_approved", "default_rate_rejected"):
            assert counts[name]["all"][rate] == one_pass[rate]
        for attribute in config.fairness.attributes:
            groups = group_column(frame, attribute, config.fairness.age_bands,
                                  age_attribute(config), config.fairness.missing_protected)
            by_group = pd.DataFrame({"g": groups.to_numpy(), "ok": ok, "y": y})
            listed = counts[name][str(groups.name)]
            assert sum(sum(g["counts"]) for g in listed) == y.size
            for entry in listed:
                part = by_group[by_group["g"].astype(str) == entry["group"]]
                assert entry["approval_rate"] == (part["ok"].mean() if len(part) else None)
                assert entry["counts"] == [int(((part["ok"] == a) & (part["y"] == d)).sum())
                                           for a in (0, 1) for d in (0, 1)]
        assert set(counts[name]["all"]) >= set(DECISION_RATES)


def test_the_dask_study_completes_and_says_how_each_model_trained(small) -> None:
    on_dask, _ = small
    study = load_run(on_dask.run_dir).study
    assert study.compute["backend"] == "dask" and study.compute["workers"] == 2
    assert study.compute["partitions"] == 4
    assert study.compute["training"]["lightgbm"].startswith("distributed: lightgbm.dask")
    assert study.compute["training"]["suining"].startswith("sample: a seeded sample of at "
                                                           "most 700")
    assert not np.isnan(on_dask.fits.oof["lightgbm"]).any()
    assert not np.isnan(on_dask.fits.oof["suining"]).any()


def test_the_local_study_records_which_model_trained_on_the_sample(small) -> None:
    compute = small[1].study.compute
    assert compute["backend"] == "local" and compute["sample_size"] == 700
    assert compute["training"] == {
        "lightgbm": "every training citizen of each fit",
        "suining": "sample: a seeded sample of at most 700 training citizens per fit; "
                   "scores every held-out citizen"}


def test_the_population_is_the_local_generators(small) -> None:
    on_dask, local = small
    pd.testing.assert_frame_equal(on_dask.population.frame.drop(columns="true_pd"),
                                  local.population.frame.drop(columns="true_pd"))


def test_count_based_metrics_equal_the_local_ones_on_the_same_predictions(small) -> None:
    _check_counts(small[0])


def test_lightgbm_auc_is_within_0_005_of_local(small) -> None:
    assert _auc_gap(*small) <= 0.005


def test_the_sample_family_trained_on_the_local_engines_seeded_sample(small) -> None:
    """700 of each fold's 1,000 training citizens, the same on the cluster as here."""
    on_dask, local = small
    np.testing.assert_array_equal(on_dask.fits.oof["suining"], local.fits.oof["suining"])


def test_dask_trained_trees_are_explained_by_the_model_that_scored_each_citizen(
        small) -> None:
    """TreeSHAP (the booster's pred_contrib on the audit sample, gathered here) of each
    lightgbm.dask fold model adds up to the out-of-fold log-odds scored on the workers."""
    on_dask, _ = small
    additivity = on_dask.importance["additivity"]["lightgbm"]
    assert additivity["passed"] and additivity["max_output_gap"] <= 1e-4
    rows = on_dask.explanations[on_dask.explanations["model"] == "lightgbm"]
    assert rows["citizen_id"].nunique() == 100
    assert set(rows["method"].astype(str)) == {"tree-shap (exact)"}


def test_the_report_says_which_model_trained_how_only_on_dask_runs(small) -> None:
    on_dask, local = small
    text = (on_dask.run_dir / "report.md").read_text()
    assert ("The study ran on a Dask cluster (2 workers, 4 partitions): lightgbm trained "
            "distributed (lightgbm.dask) on every training citizen of each fold; suining "
            "cannot train distributed and trained on a seeded sample of at most 700 "
            "training citizens per fold") in text
    here = (local.run_dir / "report.md").read_text()
    assert "Dask" not in here
    assert ("suining trained on a seeded sample of at most 700 training citizens per fit "
            "(compute.sample_size) and scored every held-out citizen; lightgbm trained on "
            "every training citizen.") in here


def test_no_worker_process_outlives_the_study(small) -> None:
    assert _workers_alive() == []


@pytest.mark.slow
def test_a_200k_study_on_two_workers(tmp_path: Path) -> None:
    on_dask, local = _studies(tmp_path, 200_000, 50_000, 200)
    assert on_dask.run_dir is not None and on_dask.run_dir.exists()
    _check_counts(on_dask)
    assert _auc_gap(on_dask, local) <= 0.005
    assert _workers_alive() == []
