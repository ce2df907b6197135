"""A what-if of an unedited applicant is exactly ``scorelab explain``'s letter, for every
family of the run: re-scored through the fold model that held the citizen out, it gives
the same score, decision and reasons in the same order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scorelab.applicants.explain import explain_citizen, explain_row
from scorelab.exceptions import DataError
from scorelab.runs import load_run
from scorelab.serve import RunsFolder, Workbench
from tests.serve.conftest import FAMILY_MODELS


@pytest.fixture(scope="module")
def bench(runs_dir: Path) -> Workbench:
    return Workbench(RunsFolder(runs_dir).run)


@pytest.mark.parametrize("model", [m["name"] for m in FAMILY_MODELS])
def test_unedited_whatif_is_the_explain_letter(bench, runs_dir, run_id, model):
    run = load_run(runs_dir / run_id)
    pred = run.predictions
    mine = pred[pred["model"].astype(str) == model]
    # one approved and one declined citizen (the reasons differ in kind)
    picks = [int(mine.loc[mine["approved"], "citizen_id"].iloc[0]),
             int(mine.loc[~mine["approved"], "citizen_id"].iloc[0])]
    for cid in picks:
        letter = explain_citizen(run, cid, model)
        case = bench.citizen(run_id, model, cid)
        outcome = bench.outcome(case, {}, set())
        assert outcome.letter.score == pytest.approx(letter.score, abs=1e-6), (model, cid)
        assert outcome.letter.approved == letter.approved
        assert outcome.letter.source == letter.source
        assert [(r.feature, round(r.points, 6)) for r in outcome.letter.reasons] == \
            [(r.feature, round(r.points, 6)) for r in letter.reasons]
        assert outcome.delta == pytest.approx(0.0, abs=1e-6)


def test_new_applicant_whatif_is_the_final_models_letter(bench, runs_dir, run_id):
    run = load_run(runs_dir / run_id)
    row = run.population().iloc[[11]]
    text = row.astype(str).reset_index(drop=True)  # as pasted: every value as text
    case = bench.applicant(run_id, "mlp", text.astype(object))
    outcome = bench.outcome(case, {}, set())
    letter = explain_row(run, row, "mlp")
    assert outcome.letter.score == pytest.approx(letter.score, abs=1e-6)
    assert [r.feature for r in outcome.letter.reasons] == [r.feature for r in letter.reasons]


def test_edits_are_checked_like_a_scored_table(bench, run_id):
    case = bench.citizen(run_id, "lightgbm", 17)
    with pytest.raises(DataError, match="column 'income' must be numeric; row 1 holds 'lots'"):
        bench.outcome(case, {"income": "lots"}, set())
    with pytest.raises(DataError, match="'astronaut' not seen in training"):
        bench.outcome(case, {"sector": "astronaut"}, {"sector"})
    with pytest.raises(DataError, match="outside what the model saw in training"):
        bench.outcome(case, {"income": "1e9"}, set())
    with pytest.raises(DataError, match="immutable"):
        bench.outcome(case, {"education": "2"}, set())


def test_age_moves_its_proxies_along_the_population_path(bench, runs_dir, run_id):
    path = bench.age_path(run_id)
    assert path is not None and set(path.medians) == {"credit_history_years",
                                                      "employment_years"}
    population = pd.read_parquet(runs_dir / run_id / "population.parquet")
    row = population.iloc[[0]].copy()
    row["age"] = 25.0
    row["credit_history_years"] = 3.0
    row["employment_years"] = 2.0
    bounds = {c: (float(population[c].min()), float(population[c].max()))
              for c in path.medians}
    older = path.move(pd.concat([row] * 2, ignore_index=True), np.array([25.0, 50.0]),
                      bounds)
    assert older["age"].tolist() == [25.0, 50.0]
    assert older["credit_history_years"].iloc[0] == pytest.approx(3.0)
    # twenty-five years on, the history is longer by the population's own median change
    assert older["credit_history_years"].iloc[1] > 3.0
    assert older["employment_years"].iloc[1] > 2.0
    edited = bench.outcome(bench.citizen(run_id, "lightgbm", 17), {"age": "70"}, {"age"})
    assert edited.edits == {"age": "70"}
