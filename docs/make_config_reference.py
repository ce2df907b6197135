"""Write docs/config.md, the config reference, from the config's own pydantic models.

Every key of :class:`scorelab.config.ExperimentConfig` with its type, bounds, default and
description, one section per top-level section and one table per nested model, so the
reference says exactly what the schema says. ``tests/test_docs.py`` compares the file
with :func:`render` and fails when they differ.

    python docs/make_config_reference.py        # rewrite docs/config.md
"""

from __future__ import annotations

import enum
import inspect
import re
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from scorelab.config import ExperimentConfig

OUT = Path(__file__).resolve().parent / "config.md"

INTRO = """\
# Config reference

An experiment is one YAML file, validated by pydantic: unknown keys are rejected, and
every key below has a default except where it says *required*.
[`configs/default.yaml`](../configs/default.yaml) documents every key line by line;
`scorelab render-config CONFIG` prints a config with every default filled in, and
`scorelab render-config CONFIG --schema` the JSON Schema these tables are made from.

Overrides are dotted keys (`population.n_citizens=5000`, `models.0.params.n_estimators`;
as Python keywords `__` stands for the dot) and are validated like a file.

Bad input is refused before any work, in one line that names the key, file, column or
rows and what would be valid (the corpus in `tests/bad_inputs/` holds each case with
its expected message): duplicated YAML keys, alias bombs and config files over 1 MB
are refused; model parameters have documented upper bounds (e.g. `n_estimators` <=
100,000, at most 10 hidden layers of 10,000 units); cut-offs must lie on the score
scale and only one decision rule may be set; everything that needs the data (audited
attributes and their missing values, rule-table values, columns a model names, the
sampling explainer's budget for a model's inputs) is checked by `scorelab validate`
exactly as `scorelab run` checks it, before any fitting.

*This page is generated from the schema by `python docs/make_config_reference.py`;
edit the field descriptions in `src/scorelab/config/`, not this file.*
"""

_BASIC = {int: "integer", float: "number", str: "string", bool: "boolean", Path: "path",
          type(None): "null", typing.Any: "any"}


# --------------------------------------------------------------------------- anchors


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation but ``-`` and ``_`` dropped,
    spaces to ``-`` (without the ``-1`` suffix of a repeated heading)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# --------------------------------------------------------------------------- values


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def inline_yaml(value: Any) -> str:
    """A value as one line of flow-style YAML, in a code span."""
    text = yaml.safe_dump(_plain(value), default_flow_style=True, sort_keys=False,
                          width=10**6, allow_unicode=True).strip()
    text = text.removesuffix("...").strip()
    return f"`{text}`"


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


# --------------------------------------------------------------------------- types


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        for model in _models_in(arg):
            if model not in found:
                found.append(model)
    return found


def _bounds(metadata: list[Any]) -> list[str]:
    """A field's bounds in words (``>= 0``, ``at least 1 long``, ``matching ^...$``)."""
    out = []
    for item in metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if isinstance(item, annotated_types.BaseMetadata) and value is not None:
                out.append(f"{sign} {value:,}" if isinstance(value, int) else f"{sign} {value}")
        if isinstance(item, annotated_types.MinLen) and item.min_length:
            out.append(f"at least {item.min_length} long")
        if isinstance(item, annotated_types.MaxLen):
            out.append(f"at most {item.max_length} long")
        if getattr(item, "pattern", None):
            out.append(f"matching `{item.pattern}`")
    return out


def _path_suffix(annotation: Any, model: type[BaseModel]) -> str:
    """How ``model`` sits in ``annotation``: a list item (``[]``), a mapping's value
    (``.<key>``) or the value itself (empty)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (list, tuple) and args and model in _models_in(args[0]):
        return "[]" + _path_suffix(args[0], model)
    if origin is dict and model in _models_in(args[1]):
        return ".<key>" + _path_suffix(args[1], model)
    for arg in args:
        if model in _models_in(arg):
            return _path_suffix(arg, model)
    return ""


class _Reference:
    """The config's models in page order, each with its heading and its anchor."""

    def __init__(self) -> None:
        self.anchor: dict[type[BaseModel], str] = {}
        #: (top-level section, heading level, heading, model, key path)
        self.sections: list[tuple[str, int, str, type[BaseModel], str]] = []

    def collect(self, section: str, model: type[BaseModel], path: str, level: int,
                title: str) -> None:
        """Give ``model`` its heading, then its nested models theirs (depth first; a
        model met again is linked to its first table)."""
        if model in self.anchor:
            return
        self.anchor[model] = slug(title)
        self.sections.append((section, level, title, model, path))
        for name, field in model.model_fields.items():
            for sub in _models_in(field.annotation):
                sub_path = f"{path}.{name}{_path_suffix(field.annotation, sub)}"
                self.collect(section, sub, sub_path, min(level + 1, 4), f"`{sub_path}`")

    def type_text(self, annotation: Any) -> str:
        """The type of a field in words, nested models as links to their tables."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self.type_text(args[0])
        if origin is typing.Literal:
            return " or ".join(inline_yaml(a) for a in args)
        if origin in (typing.Union, types.UnionType):
            parts = [a for a in args if a is not type(None)]
            text = " or ".join(self.type_text(a) for a in parts)
            return f"{text} or null" if len(parts) < len(args) else text
        if origin in (list, tuple):
            return f"list of {self.type_text(args[0])}" if args else "list"
        if origin is dict:
            return f"mapping of {self.type_text(args[0])} to {self.type_text(args[1])}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{self.anchor[annotation]})"
        if annotation in _BASIC:
            return _BASIC[annotation]
        return getattr(annotation, "__name__", str(annotation))

    @staticmethod
    def default_text(field: FieldInfo) -> str:
        factory = field.default_factory
        if factory is None:
            return ("*required*" if field.default is PydanticUndefined
                    else inline_yaml(field.default))
        if isinstance(factory, type) and issubclass(factory, BaseModel):
            return "its keys' defaults"
        if field.default_factory_takes_validated_data:
            return "derived from the other keys"
        return inline_yaml(factory())

    def table(self, model: type[BaseModel]) -> list[str]:
        rows = ["| key | type | default | description |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            kind = ", ".join([self.type_text(field.annotation), *_bounds(field.metadata)])
            rows.append(f"| `{name}` | {_cell(kind)} | {_cell(self.default_text(field))} "
                        f"| {_cell(field.description or '')} |")
        return rows


def _title(model: type[BaseModel], section: str, alternatives: int) -> str:
    """A section's own heading; each alternative form of a section (the population's
    sources) is named by its discriminator."""
    source = model.model_fields.get("source")
    if alternatives > 1 and source is not None:
        return f"`{section}` (source: {typing.get_args(source.annotation)[0]})"
    return f"`{section}`"


def _doc(model: type[BaseModel]) -> str:
    """The first paragraph of a model's docstring, on one line."""
    text = inspect.cleandoc(model.__doc__ or "").split("\n\n")[0]
    return " ".join(text.replace("``", "`").split())


# --------------------------------------------------------------------------- the page


def render() -> str:
    """The text of docs/config.md."""
    ref = _Reference()
    ref.anchor[ExperimentConfig] = slug("Top level")
    fields = ExperimentConfig.model_fields
    for name, field in fields.items():
        models = _models_in(field.annotation)
        for model in models:
            path = name + _path_suffix(field.annotation, model)
            level = 2 if len(models) == 1 else 3
            ref.collect(name, model, path, level, _title(model, name, len(models)))
    lines = [INTRO, "## Top level", "", _doc(ExperimentConfig), "",
             *ref.table(ExperimentConfig)]
    opened: set[str] = set()
    for section, level, title, model, path in ref.sections:
        if section not in opened and level > 2:  # a section of several forms
            lines += ["", f"## `{section}`", "", _cell(fields[section].description or "")]
        opened.add(section)
        lines += ["", f"{'#' * level} {title}", "", _doc(model)]
        if path.endswith("[]") and path.count(".") == 0:
            lines += ["", f"`{section}` is a list; each item is a mapping of these keys."]
        lines += ["", *ref.table(model)]
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.write_text(render())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
