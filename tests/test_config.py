from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from scorelab.config import ExperimentConfig, config_from_dict, dump_config, load_config
from scorelab.exceptions import ConfigError

SECTIONS = ["population", "models", "evaluation", "explain", "fairness", "decision", "scale",
            "report", "output"]


def test_default_config_loads_with_every_section(default_config_path: Path) -> None:
    cfg = load_config(default_config_path)
    assert cfg.schema_version == 1
    dumped = cfg.model_dump()
    for section in SECTIONS:
        assert section in dumped


def test_rendered_config_round_trips(default_config_path: Path, tmp_path: Path) -> None:
    cfg = load_config(default_config_path)
    again = tmp_path / "resolved.yaml"
    again.write_text(dump_config(cfg))
    assert load_config(again) == cfg


def _models(model: type[BaseModel], seen: set[type]) -> None:
    seen.add(model)
    for field in model.model_fields.values():
        for candidate in _annotation_models(field.annotation):
            if candidate not in seen:
                _models(candidate, seen)


def _annotation_models(annotation: object) -> list[type[BaseModel]]:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _annotation_models(arg)]


def test_every_field_has_a_description() -> None:
    seen: set[type] = set()
    _models(ExperimentConfig, seen)
    assert len(seen) > 10
    for model in seen:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"populaton": {}}, r"unknown key 'populaton'; valid keys here: .*population"),
        ({"population": {"causes": {"age_proxy": {"strenght": 1}}}},
         r"unknown key 'population.causes.age_proxy.strenght'; valid keys here: enabled, "
         r"strength"),
        ({"population": {"n_citizens": "many"}}, r"population.n_citizens: .*integer.*'many'"),
        ({"population": {"n_citizens": 0}}, r"population.n_citizens: .*greater than 0"),
        ({"population": {"n_citizens": -5}}, r"population.n_citizens: .*greater than 0"),
        ({"population": {"causes": {"label_bias": {"flip_rate": 1.5}}}},
         r"population.causes.label_bias.flip_rate: .*less than or equal to 1"),
        ({"population": {"demographics": {"minority_share": -0.1}}},
         r"population.demographics.minority_share: .*greater than or equal to 0"),
        ({"fairness": {"age_bands": [30, 20]}}, r"fairness.age_bands: .*strictly increasing"),
        ({"name": "a b"}, r"name: String should match pattern"),
    ],
)
def test_bad_config_gives_one_clear_line(raw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as info:
        config_from_dict(raw)
    assert "\n" not in str(info.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file '.*nope.yaml' not found"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\npopulation: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line"):
        load_config(bad)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(bad)


def test_config_is_frozen() -> None:
    cfg = config_from_dict({})
    with pytest.raises(ValueError, match="frozen"):
        cfg.seed = 3  # type: ignore[misc]


def test_yaml_yes_no_on_off_stay_text_and_true_false_stay_booleans(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("""\
models:
  - {family: expert, name: suining, kind: suining,
     params: {rules: {Records: {yes: -100, no: 5, on: 1, off: 2, Yes: 3}}}}
explain: {enabled: no}
fairness: {enabled: true}
""")
    cfg = load_config(path)
    rules = cfg.models[0].params["rules"]["Records"]
    assert rules == {"yes": -100, "no": 5, "on": 1, "off": 2, "Yes": 3}
    assert cfg.explain.enabled is False  # a boolean field still reads "no" as false
    assert cfg.fairness.enabled is True
    again = tmp_path / "resolved.yaml"
    again.write_text(dump_config(cfg))
    assert load_config(again) == cfg


_TABLE = {"source": "table", "path": "t.csv", "target": "y", "default_value": 1,
          "protected": {"AGE": "age", "Sex": "categorical"}}


def test_table_audits_its_declared_protected_columns_by_default() -> None:
    cfg = config_from_dict({"population": _TABLE})
    assert cfg.fairness.attributes == ["AGE", "Sex"]
    assert cfg.fairness.intersections == []
    assert cfg.population.age_column == "AGE"
    # derived again when the population changes; what the user set is kept
    other = cfg.with_({"population.protected": {"Sex": "categorical"}})
    assert other.fairness.attributes == ["Sex"] and other.population.age_column is None
    asked = config_from_dict({"population": _TABLE,
                              "fairness": {"attributes": ["Sex"],
                                           "intersections": [["AGE", "Sex"]]}})
    assert asked.fairness.attributes == ["Sex"]
    assert asked.with_({"seed": 3}).fairness.intersections == [["AGE", "Sex"]]
    synthetic = config_from_dict({})
    assert synthetic.fairness.attributes == ["age", "sex", "minority", "region"]
    assert synthetic.fairness.intersections == [["age", "sex"]]


@pytest.mark.parametrize(("protected", "age"), [
    ({"age": "continuous"}, "age"),  # as before: a column named exactly age
    ({"AGE": "age", "age": "continuous"}, "AGE"),
    ({"years": "continuous"}, None),
])
def test_age_column(protected: dict, age: str | None) -> None:
    cfg = config_from_dict({"population": {**_TABLE, "protected": protected}})
    assert cfg.population.age_column == age


@pytest.mark.parametrize(("fairness", "match"), [
    ({"attributes": ["AGE", "minority"]},
     r"^config: fairness.attributes: 'minority' is not a protected attribute of the "
     r"population \(population.protected declares: AGE, Sex\)$"),
    ({"intersections": [["age", "Sex"]]}, r"fairness.intersections: 'age' \(in age x Sex\)"),
    ({"reference_groups": {"age_band": "18-25"}}, r"fairness.reference_groups: 'age_band'"),
])
def test_audited_attributes_must_be_the_populations(fairness: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config_from_dict({"population": _TABLE, "fairness": fairness})
    assert config_from_dict({"population": _TABLE, "fairness": {
        "reference_groups": {"AGE_band": "26-35", "Sex": "female"}}})
