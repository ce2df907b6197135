"""The hybrids' inner models on large data: a seeded, stratified sample of the rows."""

from __future__ import annotations

import numpy as np
import pytest

from scorelab.config import config_from_dict
from scorelab.data import generate_population
from scorelab.models.hybrid import YimMitchellHybrid, _inner_fit_rows
from tests.models.test_hybrid import logistic_stand_in

TINY_NET = {"hidden_layer_sizes": (8,), "max_iter": 60}  # early stopping ends it (32 epochs)


@pytest.fixture(scope="module")
def pop():
    cfg = config_from_dict({"seed": 8, "population": {"n_citizens": 1_500}})
    p = generate_population(cfg.population, cfg.seed)
    return p.frame[p.features], p.frame["defaulted"].to_numpy()


def test_inner_rows_are_a_seeded_stratified_subset():
    y = (np.arange(10_000) % 5 == 0).astype(int)  # 20% defaulters
    train = np.arange(0, 10_000, 2)
    assert _inner_fit_rows(train, y, None, 0, 0) is train
    assert _inner_fit_rows(train, y, 5_000, 0, 0) is train  # under the limit: all rows
    rows = _inner_fit_rows(train, y, 1_000, 3, 1)
    assert rows.size == 1_000 and np.isin(rows, train).all() and np.unique(rows).size == 1_000
    assert y[rows].mean() == pytest.approx(y[train].mean(), abs=1e-3)  # shares kept
    assert np.array_equal(rows, _inner_fit_rows(train, y, 1_000, 3, 1))  # seeded
    assert not np.array_equal(rows, _inner_fit_rows(train, y, 1_000, 3, 2))  # per fold


def test_limit_above_the_data_changes_no_number(pop):
    X, y = pop
    make = dict(first_stage=logistic_stand_in(), inner_folds=3, **TINY_NET)
    default = YimMitchellHybrid(**make).fit(X, y)
    unlimited = YimMitchellHybrid(inner_max_rows=None, **make).fit(X, y)
    assert np.array_equal(default.oof_log_odds_, unlimited.oof_log_odds_)
    assert np.array_equal(default.predict_proba(X), unlimited.predict_proba(X))


def test_limit_below_the_data_samples_inner_fits_but_scores_every_row(pop):
    X, y = pop
    make = dict(first_stage=logistic_stand_in(), inner_folds=3, inner_max_rows=300,
                **TINY_NET)
    a = YimMitchellHybrid(**make).fit(X, y)
    b = YimMitchellHybrid(**make).fit(X, y)
    full = YimMitchellHybrid(**{**make, "inner_max_rows": None}).fit(X, y)
    assert np.isfinite(a.oof_log_odds_).all()  # every held-out row still scored
    assert np.array_equal(a.oof_log_odds_, b.oof_log_odds_)  # seeded
    assert not np.allclose(a.oof_log_odds_, full.oof_log_odds_)  # really fewer rows
    # the first stage refitted on all rows is never sampled
    assert np.array_equal(a.first_stage_log_odds(X), full.first_stage_log_odds(X))


def test_bad_limit_is_refused(pop):
    X, y = pop
    with pytest.raises(ValueError, match="inner_max_rows"):
        YimMitchellHybrid(first_stage=logistic_stand_in(), inner_max_rows=1).fit(X, y)
