"""Reading a config file: a safe YAML loader that refuses duplicated keys and alias
bombs, relative table paths resolved, and the resolved config written back."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scorelab.config.experiment import ExperimentConfig, config_from_dict
from scorelab.config.overrides import apply_overrides
from scorelab.config.population import TablePopulation
from scorelab.core.jsonable import dumps
from scorelab.core.messages import excerpt
from scorelab.exceptions import ConfigError

__all__ = ["MAX_CONFIG_BYTES", "MAX_CONFIG_VALUES", "config_from_yaml", "config_hash",
           "dump_config", "load_config"]


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None, /,
                **kwargs: Any) -> ExperimentConfig:
    """Read and validate a YAML config, with optional dotted overrides.

    Parameters
    ----------
    path : the YAML file.
    overrides, **kwargs : values that replace the file's, by dotted key
        (``{"population.n_citizens": 5000}``; as keywords, ``population__n_citizens``).

    Raises
    ------
    ConfigError
        One clear line: the file, the key and what would be valid.
    """
    config = _load_file(Path(path))
    changes = {**(overrides or {}), **kwargs}
    return apply_overrides(config, changes, source=f"{path} (with overrides)") if changes \
        else config


#: A config file is at most this big (the largest bundled one is a few kB).
MAX_CONFIG_BYTES = 1_000_000
#: A config holds at most this many values once its aliases are expanded: an "alias
#: bomb" (billion laughs) of a few lines would otherwise expand to billions.
MAX_CONFIG_VALUES = 100_000


class ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans: only true/false are booleans.

    Under YAML 1.1 ``yes``/``no``/``on``/``off`` are booleans, so a rule table
    ``Records: {yes: -100}`` would become ``{True: -100}`` and never match the value
    "yes"; here they stay text (a boolean field still accepts them: pydantic reads
    "yes" as true).

    Two more refusals: a key repeated in one mapping (PyYAML keeps the last one
    silently) and a document whose aliases expand to more than ``MAX_CONFIG_VALUES``.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        _refuse_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _refuse_expansion(node)
        return self.construct_document(node)


class RefusedYAML(yaml.constructor.ConstructorError):
    """Valid YAML that a config must not be: a repeated key, an alias bomb."""


def _refuse_duplicate_keys(node: yaml.MappingNode) -> None:
    first: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = (key_node.tag, key_node.value)
        line = key_node.start_mark.line + 1
        if key in first:
            raise RefusedYAML(None, None, f"duplicate key '{excerpt(key_node.value)}' at line "
                              f"{line} (first at line {first[key]}); each key may appear once "
                              "in a section (YAML would silently keep the last)",
                              key_node.start_mark)
        first[key] = line


def _refuse_expansion(root: yaml.Node) -> None:
    """Count the values the document expands to (each alias as often as it is used),
    stopping as soon as there are too many, and refuse a recursive alias."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise RefusedYAML(None, None, f"line {node.start_mark.line + 1}: an alias refers "
                              "to itself (a recursive value)", node.start_mark)
        open_nodes.add(id(node))
        children = ([c for pair in node.value for c in pair]
                    if isinstance(node, yaml.MappingNode) else
                    node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_CONFIG_VALUES:
                raise RefusedYAML(None, None, f"line {node.start_mark.line + 1}: the config "
                                  f"holds more than {MAX_CONFIG_VALUES:,} values once its "
                                  "aliases are expanded (an alias bomb?)", node.start_mark)
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                   re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


def _load_file(path: Path) -> ExperimentConfig:
    """Read and validate a YAML config; raise :class:`ConfigError` with one clear line."""
    return _validated_yaml(_read_yaml(path), path)


def config_from_yaml(text: str, path: str | Path) -> ExperimentConfig:
    """Validate the YAML ``text`` of a config as if it were the file ``path`` (relative
    table paths resolved against its folder): a config checked before it is written."""
    path = Path(path)
    try:
        raw = yaml.load(text, Loader=ConfigLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({excerpt(exc, 120)})") from None
    return _validated_yaml(raw, path)


def _validated_yaml(raw: Any, path: Path) -> ExperimentConfig:
    """A parsed YAML document validated as the config in ``path``."""
    if raw is None:
        raise ConfigError(f"{path}: the config is empty; it needs at least a 'models:' list "
                          "(see configs/default.yaml)")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got "
                          f"{type(raw).__name__}")
    if raw.get("models") == []:
        raise ConfigError(f"{path}: models: the list is empty; list at least one model "
                          "(see configs/default.yaml)")
    config = config_from_dict(raw, source=str(path))
    population = config.population
    if isinstance(population, TablePopulation) and population.path is not None \
            and not population.path.is_absolute():
        # a table path is relative to the config file, wherever the command runs from
        resolved = (path.parent / population.path).resolve()
        config = config.model_copy(update={"population": population.model_copy(
            update={"path": resolved})})
    return config


def _read_yaml(path: Path) -> Any:
    """The YAML document in ``path``, or one :class:`ConfigError` line saying why not."""
    if path.is_dir():
        raise ConfigError(f"config file '{path}' is a folder (give the path of a YAML file)")
    if not path.is_file():
        raise ConfigError(f"config file '{path}' not found (give the path of a YAML file)")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: the file is {size / 1e6:,.1f} MB; a config is at most "
                          f"{MAX_CONFIG_BYTES / 1e6:g} MB (is it the right file?)")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=ConfigLoader)  # noqa: S506
    except RefusedYAML as exc:
        raise ConfigError(f"{path}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        raise ConfigError(f"{path}: not valid YAML{where}"
                          + (f": {excerpt(problem, 120)}" if problem else "")) from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__})") from None


def dump_config(config: ExperimentConfig) -> str:
    """The fully resolved config as YAML, in field order."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def config_hash(config: ExperimentConfig) -> str:
    """A short, stable fingerprint of the resolved config."""
    payload = dumps(config.model_dump(mode="json"), indent=None, sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:10]
