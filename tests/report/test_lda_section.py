"""The lda section: built from a run's ``lda/`` folder as ``scorelab lda`` writes it
(write_lda on a tiny search), every sentence from that search's numbers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scorelab.exceptions import DataError
from scorelab.lda import LdaSearch, run_search
from scorelab.lda.artifacts import write_lda
from scorelab.report.context import ReportContext
from scorelab.report.sections.lda import lda
from scorelab.runs import load_run
from scorelab.runs.lda import CANDIDATES_FILE, load_lda
from scorelab.runs.writer import RunWriter
from scorelab.study.population import population_for
from tests.lda.conftest import scenario

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


def _lda_folder(tmp_path_factory: pytest.TempPathFactory,
                **extra: object) -> tuple[Path, LdaSearch]:
    config = scenario("age_proxy", 600, **{
        "lda.proxies": ["credit_history_years"], "evaluation.n_jobs": 1,
        "lda.params": {"trees/lightgbm": {"n_estimators": [40], "num_leaves": [7, 15]}},
        "models": [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": 40}}], **extra})
    population, _ = population_for(config)
    search = run_search(config, population)
    writer = RunWriter(tmp_path_factory.mktemp("lda-runs"), "lda")
    write_lda(writer, config, search, population.schema)
    return writer.tmp / "lda", search


@pytest.fixture(scope="module")
def lda_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LdaSearch]:
    return _lda_folder(tmp_path_factory,
                       **{"decision.costs": {"false_accept": 5, "false_reject": 1}})


def test_a_search_without_costs_reports_its_choices_without_a_cost_column(
        run_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No decision.costs (the default config): the choices table has no cost column and
    a chosen candidate's row is still written (it once raised KeyError 'expected_cost',
    so `scorelab lda configs/default.yaml` failed after its whole search)."""
    folder, search = _lda_folder(tmp_path_factory)
    assert any(ch["chosen"] is not None for ch in search.choices)
    shutil.copytree(folder, run_copy / "lda")
    section = lda(ReportContext(load_run(run_copy)))
    assert section is not None and "Expected cost" not in section.summary
    choices = next(b for b in section.blocks if b.get("title", "").startswith("The least"))
    assert choices["columns"][-1] == "significant"
    assert all(len(r) == len(choices["columns"]) for r in choices["rows"])
    shown = " ".join(str(r[1]) for r in choices["rows"])
    assert all(ch["chosen"] in shown for ch in search.choices if ch["chosen"] is not None)


def test_the_section_tells_this_searchs_numbers(run_copy: Path,
                                                 lda_folder: tuple[Path, LdaSearch]) -> None:
    folder, search = lda_folder
    shutil.copytree(folder, run_copy / "lda")
    ctx = ReportContext(load_run(run_copy))
    section = lda(ctx)
    assert section is not None and section.id == "lda"
    assert section.summary.startswith(f"{len(search.table)} candidate model(s)")
    texts = [b["text"] for b in section.blocks if b["kind"] == "text"]
    certificate = next(t for t in texts if t.startswith("Certificate:"))
    stop = search.stopping
    assert f"{stop['bound']:.4f}" in certificate or "Every one of the" in certificate
    assert any(t.startswith("Checked on a fresh population of 600 citizens") for t in texts)
    choices = next(b for b in section.blocks if b.get("title", "").startswith("The least"))
    assert choices["columns"][-1] == "expected cost (interval)"
    assert len(choices["rows"]) == len(search.choices)
    assert "Expected cost per applicant" in section.summary
    svg = ctx.figures["lda_frontier"]()
    assert svg.lstrip().startswith("<svg") and "group thresholds" in svg
    saved = json.loads((folder / "frontier.json").read_text())["saved_models"]
    for name in saved:  # the chosen ones are saved like any model, with their signature
        assert (folder / "models" / name / "model.json").is_file()


def test_a_run_without_lda_has_no_section_and_a_broken_one_one_line(
        run_copy: Path, lda_folder: tuple[Path, LdaSearch]) -> None:
    assert lda(ReportContext(load_run(run_copy))) is None
    shutil.copytree(lda_folder[0], run_copy / "lda")
    (run_copy / CANDIDATES_FILE).unlink()
    with pytest.raises(DataError, match=r"lda/candidates.parquet is missing"):
        load_lda(run_copy)
