"""Dotted-key overrides (``population.n_citizens=5000``) and the one-line message of a
failed validation: both work on any config model, given as a parameter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from scorelab.config.fairness import DERIVED_FAIRNESS
from scorelab.config.population import POPULATION_KINDS
from scorelab.core.messages import MAX_PROBLEMS, excerpt
from scorelab.exceptions import ConfigError

__all__ = ["MAX_PROBLEMS", "apply_overrides", "format_validation_error", "validated"]

Model = TypeVar("Model", bound=BaseModel)


def apply_overrides(config: Model, overrides: Mapping[str, Any],
                    source: str = "config (with overrides)") -> Model:
    """``config`` with dotted-key ``overrides`` applied and validated again."""
    raw = config.model_dump(mode="json")
    touched = [str(k).replace("__", ".") for k in overrides]
    for key in set(DERIVED_FAIRNESS) - config.fairness.model_fields_set:
        if not any(t.startswith(f"fairness.{key}.") for t in touched):
            raw["fairness"].pop(key)  # derived from the population: derive it again
    for key, value in overrides.items():
        _set_dotted(raw, str(key).replace("__", "."), value)
    _override_rule(raw, touched)
    return validated(type(config), raw, source=source)


def _override_rule(raw: dict[str, Any], touched: list[str]) -> None:
    """An override that sets one decision rule replaces the file's other rule: the
    command line wins, as everywhere, instead of "both rules set"."""
    decision = raw.get("decision")
    rules = ("cutoff_score", "target_approval_rate")
    if not isinstance(decision, dict):
        return
    for rule, other in (rules, rules[::-1]):
        if f"decision.{rule}" in touched and f"decision.{other}" not in touched \
                and decision.get(rule) is not None:
            decision[other] = None


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[:depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"override '{key}': '{where}' needs a list index "
                                  f"0-{len(node) - 1}")
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                raise ConfigError(f"override '{key}': unknown key '{where}'; valid keys here: "
                                  f"{', '.join(sorted(node))}")
            node = node[part]
        else:
            raise ConfigError(f"override '{key}': '{'.'.join(parts[:depth])}' is a value, "
                              "not a section")
        if node is None and depth < len(parts) - 2:
            raise ConfigError(f"override '{key}': '{where}' is empty (null); set it whole")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"override '{key}': the last part needs a list index "
                              f"0-{len(node) - 1}")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value  # an unknown key is rejected by validation, naming valid keys
    else:
        raise ConfigError(f"override '{key}': '{'.'.join(parts[:-1])}' is a value, "
                          "not a section")


def validated(model: type[Model], raw: dict[str, Any], source: str = "config") -> Model:
    """``raw`` validated as ``model``; one :class:`ConfigError` line naming ``source``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc, model)}") from None




def format_validation_error(exc: ValidationError, root: type[BaseModel]) -> str:
    """One line per problem, joined: the dotted key, what is wrong and what is valid."""
    parts = []
    for err in exc.errors():
        shown_loc = [p for i, p in enumerate(err["loc"])
                     if not (i > 0 and err["loc"][i - 1] == "population" and p in POPULATION_KINDS)]
        loc = ".".join(str(p) for p in shown_loc) or "(top level)"
        if err["type"] == "cross_section":  # the message names its own keys
            parts.append(err["msg"])
        elif err["type"] == "extra_forbidden":
            valid = _valid_keys(root, err["loc"][:-1])
            hint = f"; valid keys here: {', '.join(valid)}" if valid else ""
            parts.append(f"unknown key '{excerpt(loc)}'{hint}")
        else:
            got = err.get("input")
            shown = f" (got {excerpt(got)!r})" if isinstance(got, str) else \
                f" (got {excerpt(got)})" if not isinstance(got, dict | list) else ""
            msg = err["msg"].removeprefix("Value error, ")  # our own words, as they are
            parts.append(f"{excerpt(loc)}: {excerpt(msg, 200)}{shown}")
    if len(parts) > MAX_PROBLEMS:
        parts[MAX_PROBLEMS:] = [f"... ({len(parts) - MAX_PROBLEMS} more problems)"]
    return "; ".join(parts)


def _valid_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking ``loc`` from the ``root`` model."""
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if part in POPULATION_KINDS and model is not root:
            model = POPULATION_KINDS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None
