"""Heavy tails (issue 31): the network sees numeric inputs through their quantiles, and
the mitigation variants' logistic base clips values beyond 20 inter-quartile ranges, so
a tail planted in one feature (x 100,000 on 1% of the rows) leaves their AUC where it
was."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scorelab.config import config_from_dict
from scorelab.data import generate_population
from scorelab.models.mitigation import _WeightedLogit
from scorelab.models.neural import MLPFamily, make_preprocessor

pytestmark = pytest.mark.heavy  # six network fits


@pytest.fixture(scope="module")
def tables():
    cfg = config_from_dict({"seed": 3, "population": {"n_citizens": 4_000}})
    pop = generate_population(cfg.population, cfg.seed)
    clean = pop.frame[pop.features]
    rows = np.random.default_rng(0).choice(len(clean), len(clean) // 100, replace=False)
    tail = clean.copy()
    tail.loc[tail.index[rows], "income"] *= 1e5
    return clean, tail, pop.frame["defaulted"].to_numpy(), rows


def _cv_auc(X, y) -> float:
    p = np.zeros(y.size)
    for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
        p[test] = MLPFamily().fit(X.iloc[train], y[train]).predict_proba(X.iloc[test])[:, 1]
    return float(roc_auc_score(y, p))


def test_a_planted_heavy_tail_moves_the_networks_auc_by_less_than_002(tables) -> None:
    clean, tail, y, _ = tables
    assert tail["income"].max() > 1e4 * clean["income"].quantile(0.75)  # really planted
    assert abs(_cv_auc(tail, y) - _cv_auc(clean, y)) < 0.02


def test_the_tail_is_just_the_highest_rank(tables) -> None:
    _, tail, _, rows = tables
    numeric = ["income", "debt_to_income"]
    prep = make_preprocessor(numeric, [], n_rows=len(tail)).fit(tail[numeric])
    z = prep.transform(tail[numeric])[:, 0]
    # standardised, the planted values would sit ~10 standard deviations out and squeeze
    # every other row together; through quantiles they are the top ranks, and the rest
    # of the column keeps its spread
    assert z.max() < 2.0 and np.all(z[rows] > 1.6)
    assert np.std(np.delete(z, rows)) > 0.9


def _numeric(frame):
    return frame.select_dtypes("number")


def test_the_logistic_base_clips_a_tail(tables) -> None:
    clean, tail, y, rows = tables
    train = np.arange(y.size) < 3_000
    aucs = {}
    for name, X in (("clean", _numeric(clean)), ("tail", _numeric(tail))):
        model = _WeightedLogit().fit(X[train].to_numpy(), y[train])
        aucs[name] = roc_auc_score(y[~train], model.predict_proba(X[~train].to_numpy())[:, 1])
    assert abs(aucs["tail"] - aucs["clean"]) < 0.02, aucs
    income = list(_numeric(tail).columns).index("income")
    assert model.high_[income] < tail["income"].iloc[rows].min()  # the tail is clipped
