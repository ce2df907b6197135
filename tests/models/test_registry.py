"""The registry and build_model: every family describes itself, every kind resolves, every
mistake is a clear ConfigError."""

from __future__ import annotations

from typing import get_args

import pytest
from sklearn.base import clone

from scorelab.config import PARAM_MAXIMA, ModelSpec
from scorelab.exceptions import ConfigError
from scorelab.models import registry
from scorelab.models.base import Explainer, ScorelabClassifier
from scorelab.models.registry import (
    DEFAULT_KIND,
    FAMILIES,
    FAMILY_CLASSES,
    all_estimators,
    build_model,
)


def spec(family, kind=None, name="m", **params):
    return ModelSpec(family=family, name=name, kind=kind, params=params)


def test_every_family_describes_itself():
    assert FAMILY_CLASSES, "the registry lists no family"
    for cls in FAMILY_CLASSES:
        assert cls.family in FAMILIES and FAMILIES[cls.family][cls.kind] is cls
        assert len(cls.description) > 20, cls.__name__
        assert cls.explainer in get_args(Explainer), cls.__name__
        assert all(isinstance(b, int) and b > 0 for b in cls.param_maxima.values())
    for family, kinds in FAMILIES.items():
        assert [c.kind for c in kinds.values() if c.default_kind] == [DEFAULT_KIND[family]]


def _family(name, family="f", kind="k", default=True, description="a family for tests"):
    return type(name, (ScorelabClassifier,), {"family": family, "kind": kind,
                                              "default_kind": default,
                                              "description": description})


def test_the_catalogue_refuses_a_class_that_does_not_describe_itself():
    families, defaults = registry.catalogue([_family("A"), _family("B", kind="j",
                                                                   default=False)])
    assert set(families["f"]) == {"k", "j"} and defaults == {"f": "k"}
    with pytest.raises(TypeError, match="C does not set description"):
        registry.catalogue([_family("C", description="")])
    with pytest.raises(TypeError, match="f/k is registered twice"):
        registry.catalogue([_family("A"), _family("B", default=False)])
    with pytest.raises(TypeError, match="two default kinds"):
        registry.catalogue([_family("A"), _family("B", kind="j")])
    with pytest.raises(TypeError, match="family f has no default kind"):
        registry.catalogue([_family("A", default=False)])


def test_bounds_and_trusted_types_come_from_the_classes():
    a = type("A", (_family("A"),), {"param_maxima": {"n_trees": 10}})
    b = type("B", (_family("B", kind="j", default=False),),
             {"param_maxima": {"n_trees": 20}, "persisted_types": ("x.Y",)})
    assert registry.param_maxima([a]) == {"n_trees": 10}
    with pytest.raises(TypeError, match="bounds n_trees at 20"):
        registry.param_maxima([a, b])
    assert registry.trusted_types([b]) == (f"{__name__}.B", "x.Y")
    trusted = set(registry.trusted_types())
    for cls in FAMILY_CLASSES:
        assert f"{cls.__module__}.{cls.__qualname__}" in trusted
        assert set(cls.persisted_types) <= trusted
    assert PARAM_MAXIMA == registry.param_maxima()
    schema = ModelSpec.model_json_schema()["properties"]["family"]
    assert schema["enum"] == list(FAMILIES)
    assert schema["kinds"] == {f: list(kinds) for f, kinds in FAMILIES.items()}
    with pytest.raises(ValueError, match="'quantum' is not a family; valid: expert, logit"):
        ModelSpec(family="quantum", name="q")


@pytest.mark.parametrize("cls", FAMILY_CLASSES, ids=lambda c: f"{c.family}/{c.kind}")
def test_every_kind_builds_with_defaults(cls):
    model = build_model(spec(cls.family, cls.kind))
    assert type(model) is cls
    clone(model)


def test_default_kind_and_params_are_applied():
    model = build_model(spec("trees", n_estimators=50, monotone_constraints={"income": -1}))
    assert type(model).__name__ == "LightGBMFamily"
    assert model.n_estimators == 50 and model.monotone_constraints == {"income": -1}


def test_unknown_parameter_names_model_kind_key_and_valid_keys():
    with pytest.raises(ConfigError) as err:
        build_model(spec("trees", "lightgbm", name="lgbm", n_trees=10))
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("model 'lgbm': unknown parameter 'n_trees' for trees/lightgbm; "
                          "valid: ")
    assert "learning_rate" in msg and "n_estimators" in msg


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(ConfigError, match=r"model 'x': unknown kind 'xgboost' for family "
                                          r"'trees'; valid: lightgbm, forest"):
        build_model(spec("trees", "xgboost", name="x"))


@pytest.mark.parametrize("family,kind,params,key", [
    ("trees", "lightgbm", {"n_estimators": -5}, "n_estimators"),
    ("trees", "forest", {"subsample": 1.5}, "subsample"),
    ("neural", "mlp", {"alpha": -1.0}, "alpha"),
    ("hybrid", "yim_mitchell", {"inner_folds": 1}, "inner_folds"),
    ("hybrid", "stacking", {"C": 0}, "C"),
    ("logit", "scorecard", {"C": -1.0}, "C"),
    ("expert", "suining", {"rules": {"late_payments": "many"}}, "late_payments"),
])
def test_bad_values_are_config_errors(family, kind, params, key):
    with pytest.raises(ConfigError) as err:
        build_model(spec(family, kind, name="bad", **params))
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"model 'bad': invalid parameter value for "
                                              f"{family}/{kind}")
    assert key in msg


def test_components_from_config_specs():
    model = build_model(spec("hybrid", "stacking", name="st", estimators=[
        "logit", "trees/forest", {"family": "neural", "params": {"alpha": 0.01}}]))
    names = [n for n, _ in model.estimators]
    assert names == ["logit", "trees_forest", "neural"]
    assert model.estimators[2][1].alpha == 0.01
    ym = build_model(spec("hybrid", name="ym", first_stage="trees"))
    assert type(ym.first_stage).__name__ == "LightGBMFamily"
    with pytest.raises(ConfigError, match="ym.first_stage.*n_trees"):
        build_model(spec("hybrid", name="ym", first_stage={"family": "trees",
                                                          "params": {"n_trees": 3}}))
    with pytest.raises(ConfigError, match="'ym.first_stage'"):
        build_model(spec("hybrid", name="ym", first_stage="bogus"))


def test_all_estimators_covers_every_registered_class():
    pairs = all_estimators()
    assert [type(est) for _, est in pairs] == list(FAMILY_CLASSES)
    assert len({name for name, _ in pairs}) == len(pairs)
    for (_, est), cls in zip(pairs, FAMILY_CLASSES, strict=True):
        assert set(cls.test_params()) <= set(est.get_params(deep=False)), cls.__name__
