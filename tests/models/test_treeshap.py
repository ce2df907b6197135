"""The pattern-table TreeSHAP equals LightGBM's own pred_contrib, on numeric, missing,
zero and categorical inputs, for every kind of missing-value split LightGBM makes."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from scorelab.models.trees import (
    PATTERN_ROWS,
    LightGBMFamily,
    RandomForestFamily,
    _codes_matrix,
    _tree_shap,
)
from scorelab.models.treeshap import PatternTreeSHAP


def _data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x1[rng.random(n) < 0.1] = np.nan
    x2 = rng.poisson(1.0, n).astype(float)  # many exact zeros
    sector = pd.Categorical(rng.choice(["a", "b", "c", "d"], n))
    sector[rng.random(n) < 0.05] = np.nan
    logit = np.nan_to_num(x1) - 0.5 * x2 + (np.asarray(sector) == "b") * 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2, "sector": sector}), y


@pytest.mark.parametrize("params", [
    {},                                            # missing_type NaN, default directions
    {"zero_as_missing": True},                     # missing_type Zero
    {"use_missing": False},                        # missing_type None: NaN read as 0
])
def test_pattern_tables_equal_pred_contrib(params: dict) -> None:
    X, y = _data(3000)
    booster = lgb.train({"objective": "binary", "num_leaves": 7, "verbose": -1,
                         "min_data_in_leaf": 5, "cat_smooth": 1, "min_data_per_group": 5,
                         **params}, lgb.Dataset(X, y), num_boost_round=60)
    kinds = {s["missing_type"] for t in booster.dump_model()["tree_info"]
             for s in _walk(t["tree_structure"])}
    X_new, _ = _data(4000, seed=1)
    fast = PatternTreeSHAP(booster).contributions(X_new, _codes_matrix(X_new))
    reference = booster.predict(X_new, pred_contrib=True)
    assert kinds and np.allclose(fast, reference, rtol=0, atol=1e-10), kinds
    assert any(s["decision_type"] == "==" for t in booster.dump_model()["tree_info"]
               for s in _walk(t["tree_structure"]))  # a categorical split was exercised


def _walk(node: dict) -> list[dict]:
    if "leaf_index" in node:
        return []
    return [node, *_walk(node["left_child"]), *_walk(node["right_child"])]


@pytest.mark.parametrize("family", [LightGBMFamily(n_estimators=80),
                                    RandomForestFamily(n_estimators=30)])
def test_families_use_it_for_many_rows_with_the_same_values(family) -> None:  # noqa: ANN001
    X, y = _data(3000)
    model = family.fit(X, y)
    X_new, _ = _data(PATTERN_ROWS + 10, seed=2)
    frame = model._lgb_input(X_new)
    fast = model.pred_contrib(X_new)
    assert np.allclose(fast.sum(axis=1), model.decision_function(X_new), atol=1e-9)
    raw = np.asarray(model.booster_.predict(frame, pred_contrib=True))
    assert np.allclose(_tree_shap(model.booster_, frame), raw, rtol=0, atol=1e-10)
