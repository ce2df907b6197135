"""The search's engine shares LightGBM's binned folds across candidates and changes no
number: its out-of-fold probabilities equal the study's fold engine bit for bit."""

from __future__ import annotations

import numpy as np

from scorelab.config import ModelSpec
from scorelab.engine import fit_folds, make_folds
from scorelab.lda import engine
from scorelab.lda.engine import fit_candidates, prepare_specs, shares_bins
from scorelab.study.population import population_for
from tests.lda.conftest import scenario


def test_shared_bins_give_the_study_engines_numbers() -> None:
    config = scenario("age_proxy", 600)
    population, _ = population_for(config)
    lgb = {"family": "trees", "kind": "lightgbm"}
    specs = [ModelSpec(**lgb, name="a", params={"n_estimators": 40, "num_leaves": 7,
                                                "random_state": 1}),
             ModelSpec(**lgb, name="b", params={"n_estimators": 60, "num_leaves": 15,
                                                "random_state": 2}),
             ModelSpec(**lgb, name="c", params={"n_estimators": 40, "random_state": 3,
                                                "monotone_constraints":
                                                    {"credit_history_years": -1}}),
             ModelSpec(**lgb, name="d", params={"n_estimators": 40, "min_child_samples": 5},
                       drop_features=["credit_history_years"]),
             ModelSpec(family="logit", kind="scorecard", name="e")]
    models = prepare_specs(config, specs, population.schema)
    frame = population.frame
    y = frame[population.schema.target].to_numpy().astype(np.int64)
    folds = make_folds(y, 2, 1, 5)
    assert [shares_bins(m, frame) for m in models] == [True] * 4 + [False]
    models = models[:4]  # the scorecard goes through fit_folds itself: nothing to compare
    engine._DATASETS.clear()
    ours = fit_candidates(models, frame, y, folds, n_jobs=1)
    # a, b, c share each fold's bins; d (other columns, other min_child_samples) has its own
    assert len(engine._DATASETS) == 2 * len(folds)
    study = fit_folds(models, frame, y, folds, n_jobs=1)
    for m in models:
        np.testing.assert_array_equal(ours.oof[m.name], study.oof[m.name])
