"""A whole (tiny) benchmark: two synthetic datasets x two seeds, three cheap models, two
of them identical. Every cell is an ordinary run directory; a rerun refits nothing; a
failing cell is one line and the others carry on; a benchmark killed in the middle of a
cell and rerun gives the same results table as one that ran through."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scorelab import api
from scorelab.benchmark import cells as cells_module
from scorelab.benchmark import load_benchmark_config
from scorelab.benchmark.cells import finished_run, plan_cells
from scorelab.benchmark.results import RESULT_COLUMNS
from scorelab.cli.commands import app
from scorelab.config import apply_overrides
from scorelab.exceptions import DataError

pytestmark = pytest.mark.heavy  # runs four small studies (about a minute on 2 cores)

TINY = Path(__file__).parent / "configs" / "tiny.yaml"


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> api.BenchmarkResult:
    seen: list[tuple[str, int, str]] = []
    result = api.benchmark(TINY, runs_dir=tmp_path_factory.mktemp("bench"),
                           on_cell=lambda o, d, t: seen.append((o.dataset, o.seed, o.status)))
    result.seen = seen  # type: ignore[attr-defined]
    return result


def _copy(done: api.BenchmarkResult, tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    shutil.copytree(done.folder, runs / done.folder.name, symlinks=True)
    return runs


def _no_fit(*args: object, **kwargs: object) -> None:
    raise AssertionError("a finished cell was refitted")


def test_every_cell_is_an_ordinary_run(done: api.BenchmarkResult) -> None:
    assert [o.status for o in done.outcomes] == ["done"] * 4
    assert sorted(done.seen) == sorted((d, s, "done") for d in ("default", "label_bias")
                                       for s in (1, 2))
    for outcome in done.outcomes:
        run = api.load_run(outcome.run_dir)  # validated against the run contract
        assert run.data.manifest["seed"] == outcome.seed
        assert outcome.run_dir.parent == done.folder / "cells" / outcome.dataset / \
            f"seed-{outcome.seed}"
        assert (outcome.run_dir / "report.html").is_file()


def test_results_table_is_long_and_read_from_the_runs(done: api.BenchmarkResult) -> None:
    table = pd.read_parquet(done.folder / "results.parquet")
    assert list(table.columns) == RESULT_COLUMNS
    pd.testing.assert_frame_equal(table, done.results)
    assert set(table["dataset"]) == {"default", "label_bias"} and set(table["seed"]) == {1, 2}
    run = api.load_run(done.outcomes[0].run_dir)
    pooled = table[(table["dataset"] == "default") & (table["seed"] == 1)
                   & table["fold"].isna() & (table["metric"] == "auc")]
    board = run.leaderboard.set_index("model")["auc"]
    assert pooled.set_index("model")["value"].to_dict() == pytest.approx(board.to_dict())
    folds = table[(table["dataset"] == "default") & (table["seed"] == 1)
                  & (table["metric"] == "auc") & table["fold"].notna()]
    assert sorted(folds["fold"].unique()) == [0, 1, 2]
    per_fold = run.data.metrics["models"]["lightgbm"]["per_fold_auc"]
    assert folds[folds["model"] == "lightgbm"].sort_values("fold")["value"].tolist() == \
        pytest.approx(per_fold)


def test_identical_families_tie(done: api.BenchmarkResult) -> None:
    for ranking in done.statistics["rankings"].values():
        ranks = ranking["average_ranks"]
        assert ranks["points"] == ranks["points_twin"], ranking["metric"]
    twin = {r["model"]: r for r in done.statistics["against_control"]}["points_twin"]
    assert (twin["wins"], twin["losses"], twin["p_equivalent"]) == (0, 0, 1.0)


def test_manifest_names_versions_seeds_and_split_hashes(done: api.BenchmarkResult) -> None:
    import json

    manifest = json.loads((done.folder / "manifest.json").read_text())
    assert manifest["seeds"] == [1, 2] and manifest["control"] == "points"
    assert {"scorelab", "numpy", "pandas"} <= set(manifest["versions"])
    hashes = {(c["dataset"], c["seed"]): c["split_hash"] for c in manifest["cells"]}
    assert len(set(hashes.values())) == 4  # each seed splits differently
    assert manifest["failed"] == 0


def test_report_answers_first_and_links_every_cell(done: api.BenchmarkResult) -> None:
    html = (done.folder / "report.html").read_text()
    md = (done.folder / "report.md").read_text()
    assert "Which family, at what fairness cost, how sure" in html
    assert "Caution: 2 dataset(s) are few" in md
    for outcome in done.outcomes:
        link = str(outcome.run_dir.relative_to(done.folder) / "report.html")
        assert f'href="{link}"' in html
    assert html.count("<svg") >= 3  # CD diagrams and the Pareto chart


def test_report_in_headless_chromium(done: api.BenchmarkResult, tmp_path: Path) -> None:
    import json

    from tests.report.browser import find_chromium, open_page
    from tests.report.test_browser import PROBE

    if find_chromium() is None:
        pytest.skip("headless Chromium is not installed (make test installs it)")
    page = done.folder / "report.html"
    result = open_page(page, tmp_path / "bench.png", PROBE, width=1400, height=900)
    assert result.requests == [page.resolve().as_uri()]  # self-contained, offline
    assert result.errors == []
    probe = json.loads(result.probe)
    assert probe["height"] <= 10 * 900, f"{probe['height']} px: more than 10 screens"
    assert probe["wide"] == [] and probe["overlaps"] == []
    assert probe["sections"][0]["heading"] == "Which family, at what fairness cost, how sure"


def test_rerun_refits_nothing(done: api.BenchmarkResult, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _copy(done, tmp_path)
    monkeypatch.setattr(cells_module, "run_study", _no_fit)
    again = api.benchmark(TINY, runs_dir=runs)
    assert [o.status for o in again.outcomes] == ["finished"] * 4
    pd.testing.assert_frame_equal(again.results, done.results)


def test_a_changed_study_is_not_taken_for_finished(done: api.BenchmarkResult) -> None:
    cell = plan_cells(load_benchmark_config(TINY), done.folder)[0]
    assert finished_run(cell) == done.outcomes[0].run_dir
    changed = cells_module.Cell(cell.dataset, cell.seed,
                                apply_overrides(cell.config, {"evaluation.bootstrap": 21}),
                                cell.folder)
    assert finished_run(changed) is None


def test_a_failing_cell_is_one_line_and_the_others_carry_on(
        done: api.BenchmarkResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = _copy(done, tmp_path)
    cell_dir = runs / done.folder.name / "cells" / "label_bias" / "seed-2"
    shutil.rmtree(cell_dir)

    def broken(*args: object, **kwargs: object) -> None:
        raise DataError("population: planted failure\nsecond line")

    monkeypatch.setattr(cells_module, "run_study", broken)
    result = CliRunner().invoke(app, ["benchmark", str(TINY), "--runs-dir", str(runs)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "cell 4/4 label_bias seed 2: failed: population: planted failure second line" \
        in result.stderr
    folder = runs / done.folder.name
    assert result.stdout.strip().splitlines()[-1] == str(folder)
    table = pd.read_parquet(folder / "results.parquet")
    assert not ((table["dataset"] == "label_bias") & (table["seed"] == 2)).any()
    assert len(table) == len(done.results) * 3 // 4
    assert "1 cell(s) failed" in (folder / "report.md").read_text()


def test_killed_mid_cell_and_rerun_gives_the_same_table(done: api.BenchmarkResult,
                                                        tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    cells = runs / "benchmark-tiny" / "cells"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-m", "scorelab", "benchmark", str(TINY),
                             "--runs-dir", str(runs)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = cells / "default" / "seed-1"
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:  # the first cell published, the second begun
            second = cells / "default" / "seed-2"
            if any(p.name.startswith("2") for p in first.glob("*")) and second.is_dir() \
                    and any(p.name.startswith(".incomplete") for p in second.iterdir()):
                break
            assert proc.poll() is None, "the benchmark ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("the second cell never started")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (kept,) = [p for p in first.iterdir() if not p.name.startswith(".")]
    seen: dict[tuple[str, int], str] = {}
    again = api.benchmark(TINY, runs_dir=runs, jobs=2,
                          on_cell=lambda o, d, t: seen.__setitem__((o.dataset, o.seed),
                                                                   o.status))
    assert seen[("default", 1)] == "finished"
    assert seen[("default", 2)] == "done"
    assert again.outcomes[0].run_dir == kept  # not refitted
    assert not list((cells / "default" / "seed-2").glob(".incomplete*"))
    pd.testing.assert_frame_equal(again.results, done.results)
