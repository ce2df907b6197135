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
