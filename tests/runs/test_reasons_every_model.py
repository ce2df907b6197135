"""Every model of the default study and of German credit gives its declined applicants
reasons in points, and the reasons add up: one answer per applicant, whichever way it
is asked (``score``, a letter to a new applicant, a citizen's letter by the final model,
``Run.score`` and ``Run.explain``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scorelab import api
from scorelab.applicants.explain import explain_citizen, explain_row
from scorelab.applicants.score import check_applicants, scorer_for
from scorelab.core.numeric import logit
from scorelab.explain.explainers import is_fast
from scorelab.runs.reader import load_run

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


ROWS, SLOW_ROWS = 1000, 150  # applicants per model (SLOW_ROWS: sampled explainers)


@pytest.fixture(scope="module", params=["default", "german"])
def study_run(request) -> Path:
    # the studies the report tests read too (tests/conftest.py)
    return request.getfixturevalue(f"{request.param}_study_run")


@pytest.fixture(scope="module")
def scored(study_run: Path) -> dict:
    """Per model: its scorer, applicants, scores with reasons and explanation (once)."""
    run = load_run(study_run)
    population = run.population()
    out = {}
    for name in run.model_names:
        scorer = scorer_for(run, name, 4)
        X = check_applicants(population, scorer.manifest.inputs, "population")
        X = X.iloc[:ROWS if is_fast(scorer.model) else SLOW_ROWS]
        out[name] = (scorer, X, scorer.score(X, 1, {}), scorer.explain(X))
    return out


def test_every_model_gives_the_declined_reasons_in_points(study_run: Path, scored) -> None:
    run = load_run(study_run)
    barred = set(run.adverse_action["barred"])
    assert set(scored) == set(run.model_names)
    for name, (scorer, _, table, _) in scored.items():
        assert is_fast(scorer.model), f"{name}: reasons by sampling"
        declined = table[~table["approved"]]
        assert len(declined) >= 10, f"{name}: only {len(declined)} declined"
        given = declined["reason_1"].notna().mean()
        assert given >= 0.95, f"{name}: reasons for {given:.1%} of the declined"
        listed = pd.concat([table[f"reason_{j}"] for j in range(1, 5)]).dropna()
        assert not set(listed) & barred, f"{name}: a barred input is a reason"
        points = pd.concat([table[f"reason_{j}_points"] for j in range(1, 5)]).dropna()
        assert (points < 0).all(), f"{name}: a reason that cost no points"
        assert table.loc[table["approved"], "reason_1"].isna().all()
        assert table["score"].dtype == np.int64
        assert not any("log-odds" in str(c) for c in table.columns)


def test_every_model_adds_up_to_its_own_score(scored) -> None:
    """base + contributions = the model's own log-odds within 1e-6, and in points: the
    score at the reference plus every input's points against it is the score."""
    for name, (scorer, X, _, explanation) in scored.items():
        own = logit(scorer.model.predict_proba(X)[:, 1])
        assert explanation.additivity_error() < 1e-6, name
        assert np.abs(explanation.output - own).max() < 1e-6, name
        gap, _ = scorer.ranking.gaps(scorer.model, X, explanation)
        at_reference = own - gap.sum(axis=1)  # the same for every applicant
        assert np.ptp(at_reference) < 1e-6, f"{name}: reference moves by {np.ptp(at_reference)}"
        scale = scorer.scale
        unclipped = scale.base_score + scale.factor * (-own - np.log(scale.base_odds))
        reference_points = scale.base_score + scale.factor * (-at_reference[0]
                                                              - np.log(scale.base_odds))
        np.testing.assert_allclose(reference_points + (-scale.factor * gap).sum(axis=1),
                                   unclipped, atol=1e-6)


def test_one_answer_per_applicant(study_run: Path, scored) -> None:
    """score, the letter to a new applicant, the citizen's letter by the final model,
    Run.score and Run.explain: the same reasons, same order, same codes and points."""
    run = load_run(study_run)
    handle = api.load_run(study_run)
    population = run.population()
    for name, (_, X, table, _) in scored.items():
        n = min(len(X), 200)
        via_api = handle.score(population.iloc[:n], name)
        pd.testing.assert_frame_equal(via_api.drop(columns="citizen_id"),
                                      table.iloc[:n], check_dtype=False)
        for i in np.flatnonzero(~table["approved"].to_numpy()[:n])[:3]:
            row = table.iloc[i]
            codes = [row[f"reason_{j}_code"] for j in range(1, 5)
                     if isinstance(row[f"reason_{j}"], str)]
            points = [row[f"reason_{j}_points"] for j in range(1, 1 + len(codes))]
            cid = int(population["citizen_id"].iloc[i])
            for letter in (explain_row(run, population.iloc[[i]], name),
                           explain_citizen(run, cid, name, final=True)):
                assert [r.code for r in letter.reasons] == codes, name
                np.testing.assert_allclose([r.points for r in letter.reasons], points,
                                           atol=1e-6)
                assert round(letter.score) == row["score"] and not letter.approved
                assert "log-odds" not in letter.text()
            data = handle.explain(cid, name, final=True)
            assert [r["code"] for r in data["reasons"]] == codes
            assert data["score"] == row["score"]
