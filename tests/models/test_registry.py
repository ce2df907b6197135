"""The catalogue and build_model: every kind resolves, every mistake is a clear ConfigError."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sklearn.base import clone

from scorelab.config import ModelSpec
from scorelab.exceptions import ConfigError
from scorelab.models import registry
from scorelab.models.registry import DEFAULT_KIND, FAMILIES, all_estimators, build_model


def spec(family, kind=None, name="m", **params):
    return ModelSpec(family=family, name=name, kind=kind, params=params)


def test_catalogue_shape_and_defaults():
    assert set(FAMILIES) == {"expert", "logit", "trees", "neural", "hybrid", "mitigation"}
    assert {k: set(v) for k, v in FAMILIES.items()} == {
        "expert": {"suining", "sesame"}, "logit": {"scorecard"},
        "trees": {"lightgbm", "forest"}, "neural": {"mlp"},
        "hybrid": {"yim_mitchell", "expert_boost", "stacking", "hces_bag"},
        "mitigation": {"exponentiated_gradient", "threshold_optimizer"}}
    assert DEFAULT_KIND == {"expert": "suining", "logit": "scorecard", "trees": "lightgbm",
                            "neural": "mlp", "hybrid": "yim_mitchell",
                            "mitigation": "exponentiated_gradient"}
    for family, kinds in FAMILIES.items():
        assert DEFAULT_KIND[family] in kinds
        for cls in kinds.values():
            assert cls.family == family
            assert cls.explainer in {"exact-additive", "linear", "tree", "agnostic", "weighted"}


@pytest.mark.parametrize("family,kind", [(f, k) for f, ks in registry._CATALOGUE.items()
                                         for k in ks])
def test_every_kind_builds_with_defaults(family, kind):
    model = build_model(spec(family, kind))
    assert type(model) is FAMILIES[family][kind]
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
    classes = {type(est) for _, est in pairs}
    assert classes == {cls for kinds in FAMILIES.values() for cls in kinds.values()}
    assert len({name for name, _ in pairs}) == len(pairs)


def test_registry_imports_without_the_expert_and_logit_modules():
    code = ("import sys; sys.modules['scorelab.models.expert'] = None; "
            "sys.modules['scorelab.models.logit'] = None; "
            "import scorelab.models.registry as r; print(r.DEFAULT_KIND['trees'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "lightgbm"
