"""Defaults that fit the table (issue 31): on a table, the parameters whose good value
depends on its size are taken from it when the config does not set them, and the model
card says so; a synthetic study keeps the family defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorelab.config import config_from_dict
from scorelab.data import SCHEMA
from scorelab.models.base import LARGE_TABLE, SMALL_TABLE
from scorelab.models.registry import FAMILY_CLASSES
from scorelab.study.export import _card
from scorelab.study.plan import Plan
from scorelab.study.population import population_for

GERMAN = Path(__file__).resolve().parents[2] / "data" / "real" / "german_credit.csv"
MODELS = [{"family": "neural", "name": "mlp", "params": {"alpha": 0.5}},
          {"family": "trees", "name": "lightgbm"},
          {"family": "trees", "kind": "forest", "name": "forest"},
          {"family": "hybrid", "kind": "stacking", "name": "stacking"},
          {"family": "hybrid", "kind": "yim_mitchell", "name": "yim_mitchell"},
          {"family": "additive", "kind": "ebm", "name": "ebm"},
          {"family": "logit", "name": "scorecard"}]


@pytest.fixture(scope="module")
def table_plan():
    config = config_from_dict({
        "population": {"source": "table", "path": str(GERMAN), "target": "credit_risk",
                       "default_value": "bad", "id_column": "applicant_id",
                       "protected": {"age": "age", "sex": "categorical"},
                       "drop": ["personal_status_sex", "foreign_worker"]},
        "models": MODELS, "fairness": {"prohibited": []}})
    plan = Plan.of(config)
    population, _ = population_for(plan)
    return plan, population.schema


def _by_name(plan, schema, n_rows):
    models, _ = plan.prepare(schema, n_rows=n_rows)
    return {m.name: m for m in models}


def test_a_small_table_sizes_what_the_config_leaves_out(table_plan) -> None:
    plan, schema = table_plan
    models = _by_name(plan, schema, 1_000)
    mlp = models["mlp"]
    assert mlp.sized == {"hidden_layer_sizes": [16], "early_stopping": False, "max_iter": 500}
    assert mlp.estimator.get_params()["alpha"] == 0.5  # the config's own value wins
    assert mlp.estimator.hidden_layer_sizes == (16,) and mlp.sized_for == 1_000
    assert models["lightgbm"].sized == {"num_leaves": 4, "min_child_samples": 20}
    assert models["forest"].sized["colsample_bytree"] == 0.3
    assert models["yim_mitchell"].sized["alpha"] == 3.0
    assert models["stacking"].sized == {} and models["scorecard"].sized == {}


def test_a_large_table_sizes_trees_and_inner_folds(table_plan) -> None:
    plan, schema = table_plan
    models = _by_name(plan, schema, 150_000)
    assert models["lightgbm"].sized == {"num_leaves": 15, "min_child_samples": 100}
    assert models["stacking"].sized == {"inner_folds": 3, "inner_max_rows": 10_000}
    assert models["stacking"].estimator.inner_folds == 3
    assert models["ebm"].sized == {"outer_bags": 2}
    assert models["mlp"].sized == {}  # the defaults fit large tables
    assert _by_name(plan, schema, 20_000)["lightgbm"].sized == {}  # in between: defaults


def test_a_synthetic_study_keeps_the_family_defaults() -> None:
    plan = Plan.of(config_from_dict({"models": MODELS}))
    models, _ = plan.prepare(SCHEMA, n_rows=1_000)
    assert all(m.sized == {} for m in models)
    assert {m.name: m.estimator for m in models}["lightgbm"].num_leaves == 7


def test_every_family_sizes_only_its_own_parameters() -> None:
    for cls in FAMILY_CLASSES:
        own = set(cls().get_params(deep=False))
        for n in (SMALL_TABLE - 1, SMALL_TABLE, LARGE_TABLE):
            assert set(cls.sized_params(n)) <= own, cls.__name__


def test_the_model_card_says_what_was_sized(table_plan) -> None:
    plan, schema = table_plan
    mlp = _by_name(plan, schema, 1_000)["mlp"]
    card = _card(mlp, {"observed": {"auc": 0.79}}, [], None, 1_000, "f" * 16, "table")
    assert any(line.startswith("Sized to the table (1,000 rows): hidden_layer_sizes = [16], "
                               "early_stopping = False, max_iter = 500 (the config does not "
                               "set them") for line in card.limits), card.limits
    assert card.parameters["alpha"] == 0.5 and card.parameters["hidden_layer_sizes"] == [16]
