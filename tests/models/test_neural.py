"""The MLP family: preprocessing, accuracy, chance on shuffled labels, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scorelab.config import config_from_dict
from scorelab.data import generate_population
from scorelab.models.neural import MLPFamily


@pytest.fixture(scope="module")
def pop4k():
    cfg = config_from_dict({"seed": 3, "population": {"n_citizens": 4_000}})
    pop = generate_population(cfg.population, cfg.seed)
    return pop.frame[pop.features], pop.frame["defaulted"].to_numpy(), pop.frame["true_pd"]


def cv_auc(make, X, y, folds=3, seed=0):
    aucs = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        model = make().fit(X.iloc[train], y[train])
        aucs.append(roc_auc_score(y[test], model.predict_proba(X.iloc[test])[:, 1]))
    return float(np.mean(aucs))


def test_mlp_is_well_above_chance(pop4k):
    X, y, true_pd = pop4k
    auc = cv_auc(MLPFamily, X, y)
    assert auc > 0.75
    assert auc > 0.93 * roc_auc_score(y, true_pd)


def test_shuffled_labels_give_chance_auc(pop4k):
    X, y, _ = pop4k
    shuffled = np.random.default_rng(1).permutation(y)
    assert abs(cv_auc(MLPFamily, X, shuffled) - 0.5) < 0.05


def test_pipeline_imputes_with_indicators_scales_and_one_hot_encodes(pop4k):
    X, y, _ = pop4k
    model = MLPFamily(max_iter=50).fit(X, y)
    prep = model.pipeline_.named_steps["prep"]
    names = list(prep.get_feature_names_out())
    missing = [c for c in X.columns if X[c].isna().any()]
    assert missing and all(any(f"missingindicator_{c}" in n for n in names) for c in missing)
    for col in ("marital_status", "sector"):
        assert sum(n.startswith(f"cat__{col}_") for n in names) == X[col].nunique()
    Z = prep.transform(X.assign(**{c: X[c].astype(object) for c in model.categories_}))
    numeric = [i for i, n in enumerate(names) if n.startswith("num__")]
    assert np.allclose(Z[:, numeric].mean(axis=0), 0, atol=1e-6)
    assert model.early_stopping_ is True and 1 <= model.n_iter_ <= 50
    assert model.family == "neural" and model.explainer == "network"
    # every network input maps back onto the column it comes from
    sources = model.network_input_columns()
    assert len(sources) == len(names) and set(sources) == set(X.columns)
    for name, source in zip(names, sources, strict=True):
        assert source in name


def test_unseen_category_and_nan_predict(pop4k):
    X, y, _ = pop4k
    model = MLPFamily(max_iter=30, early_stopping=True).fit(X, y)
    odd = X.iloc[:4].copy()
    odd["sector"] = pd.Categorical(["never-seen"] * 4)
    odd["income"] = np.nan
    p = model.predict_proba(odd)
    assert p.shape == (4, 2) and np.isfinite(p).all()


def test_same_random_state_same_probabilities(pop4k):
    X, y, _ = pop4k
    X, y = X.iloc[:1500], y[:1500]
    a = MLPFamily(random_state=3).fit(X, y).predict_proba(X)
    b = MLPFamily(random_state=3).fit(X, y).predict_proba(X)
    c = MLPFamily(random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 8 rows
def test_early_stopping_is_switched_off_when_too_few_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    y = (X[:, 0] > 0).astype(int)
    model = MLPFamily(hidden_layer_sizes=(4,), max_iter=500).fit(X, y)
    assert model.early_stopping_ is False
    assert MLPFamily().fit(np.tile(X, (30, 1)), np.tile(y, 30)).early_stopping_ is True


@pytest.mark.parametrize("params, key", [({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
                                         ({"alpha": -1.0}, "alpha"),
                                         ({"validation_fraction": 1.0}, "validation_fraction"),
                                         ({"max_iter": 0}, "max_iter")])
def test_bad_parameter_values_raise(params, key):
    with pytest.raises(ValueError, match=key):
        MLPFamily(**params).fit(np.zeros((10, 1)), np.arange(10) % 2)
