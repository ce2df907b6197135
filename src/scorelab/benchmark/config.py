"""The benchmark config (``scorelab benchmark BENCH.yaml``): datasets x seeds x families.

Written in the style of the experiment config (frozen sections, no unknown key, one
line per mistake naming the key and what is valid). A dataset is exactly one of:

* ``dataset``: a name ``scorelab datasets`` lists (``german_credit`` with its own study
  config, ``romanian_vub`` and ``australian`` read from the ``datasets`` extra);
* ``config``: a study config (a synthetic scenario of ``configs/scenarios/`` or a table
  study), relative to the benchmark file;
* ``table``: a ``population`` section of ``source: table`` (path, target, protected ...).

The benchmark's ``models`` replace every dataset's own; a dataset's ``models`` mapping
changes named fields of named models there (an expert's rules for one table).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scorelab.config import ModelSpec
from scorelab.config.base import MAX_SEED, cross_error
from scorelab.core.messages import problems_line
from scorelab.exceptions import ConfigError

__all__ = ["METRICS", "BenchmarkConfig", "DatasetEntry", "Metric", "Statistics",
           "load_benchmark_config"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,48}$")


class _Section(BaseModel):
    # As the experiment config's sections: a typo is an error, never a silent default.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Metric:
    """A metric ranked across datasets: where it comes from and which way is better."""

    def __init__(self, name: str, column: str, better: str, label: str,
                 fairness: bool = False) -> None:
        self.name, self.column, self.better, self.label = name, column, better, label
        self.fairness = fairness

    def goodness(self, values: Any) -> Any:
        """Values turned so that larger is better (ranks and tests use this)."""
        import numpy as np

        v = np.asarray(values, dtype=float)
        if self.better == "max":
            return v
        if self.better == "min":
            return -v
        return -np.abs(np.log(v))  # near_one: a ratio, as far above 1 as below is as bad


#: The metrics a benchmark can rank on, by name (leaderboard column, direction, label).
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("auc", "auc", "max", "AUC"),
    Metric("brier", "brier", "min", "Brier score"),
    Metric("expected_cost", "expected_cost", "min", "expected cost"),
    Metric("worst_approval_ratio", "worst_approval_ratio", "max",
           "worst four-fifths ratio", fairness=True),
    Metric("age_approval_ratio", "age_approval_ratio", "near_one",
           "young/rest approval ratio", fairness=True),
    Metric("equalized_odds_difference", "worst_equalized_odds_difference", "min",
           "equalized-odds difference", fairness=True),
    Metric("validity_share", "validity_share", "max",
           "share of planted-truth checks recovered", fairness=True),
)}
MetricName = Literal["auc", "brier", "expected_cost", "worst_approval_ratio",
                     "age_approval_ratio", "equalized_odds_difference", "validity_share"]


class DatasetEntry(_Section):
    """One dataset of the benchmark: a listed dataset, a study config or a table."""

    name: str = Field(description="Short name (lower case, digits, _ or -): the cell "
                      "folders and every table of the benchmark use it.")
    dataset: str | None = Field(None, description="A dataset `scorelab datasets` lists.")
    config: Path | None = Field(None, description="A study config (YAML), relative to the "
                                "benchmark file.")
    table: dict[str, Any] | None = Field(None, description="A population section of a "
                                         "table (source: table is implied).")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Dotted overrides "
                                      "of this dataset's study (e.g. population.n_citizens).")
    models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="model name -> fields replaced in that model of "
        "the benchmark for this dataset only (params are merged key by key).")

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _SLUG.match(name):
            raise ValueError(f"'{name}' must be lower case letters, digits, _ or -, at most "
                             "49 characters")
        return name

    @model_validator(mode="after")
    def _one_source(self) -> DatasetEntry:
        given = [k for k in ("dataset", "config", "table") if getattr(self, k) is not None]
        if len(given) != 1:
            raise cross_error(f"datasets '{self.name}': give exactly one of dataset, config "
                              f"or table (given: {', '.join(given) or 'none'})")
        return self


class Statistics(_Section):
    """How the families are compared across datasets."""

    control: str | None = Field(None, description="The model every other one is tested "
                                "against (null: the first logit model, else the first).")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Significance level.")
    rope: float = Field(0.01, ge=0, le=0.2, description="Region of practical equivalence "
                        "of the Bayesian signed-rank test, in units of the metric "
                        "(0.01 AUC by default).")
    posthoc: Literal["wilcoxon_holm", "nemenyi"] = Field(
        "wilcoxon_holm", description="Pairwise tests after Friedman: Wilcoxon signed-rank "
        "with Holm (Benavoli et al. 2016) or Nemenyi (Demsar 2006, for comparison).")
    metrics: list[MetricName] = Field(
        default_factory=lambda: list(METRICS), min_length=1,
        description=f"Metrics ranked across datasets (valid: {', '.join(METRICS)}); the "
        "first is the accuracy metric the report leads with.")
    bayes_samples: int = Field(20_000, ge=1_000, le=1_000_000,
                               description="Posterior draws of the Bayesian test.")


class BenchmarkConfig(_Section):
    """A benchmark: every dataset x seed is an ordinary study (a cell)."""

    schema_version: Literal[1] = Field(1, description="Version of this format.")
    name: str = Field(description="Benchmark name: the benchmark folder is "
                      "<runs-dir>/benchmark-<name>.")
    seeds: list[int] = Field(min_length=1, description="One cell per dataset and seed.")
    datasets: list[DatasetEntry] = Field(min_length=1)
    models: list[ModelSpec] = Field(min_length=2, description="The families compared, the "
                                    "same on every dataset (config's models syntax).")
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Sections (evaluation, fairness, decision, "
        "explain, ...) given to a dataset read from a table or a package; a study config "
        "keeps its own.")
    overrides: dict[str, Any] = Field(default_factory=dict, description="Dotted overrides "
                                      "applied to every cell (e.g. explain.enabled: false).")
    statistics: Statistics = Field(default_factory=Statistics)
    base_dir: Path = Field(Path("."), description="Folder of the benchmark file (set on "
                           "load; relative paths are resolved against it).", exclude=True)

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _SLUG.match(name):
            raise ValueError(f"'{name}' must be lower case letters, digits, _ or - (it names "
                             "the benchmark folder)")
        return name

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: list[int]) -> list[int]:
        bad = [s for s in seeds if not 0 <= s <= MAX_SEED]
        if bad:
            raise ValueError(f"{bad[0]} is not a seed (0 to {MAX_SEED})")
        if len(set(seeds)) != len(seeds):
            raise ValueError("each seed once (a repeated seed is the same cell)")
        return seeds

    @model_validator(mode="after")
    def _names(self) -> BenchmarkConfig:
        names = [d.name for d in self.datasets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise cross_error(f"datasets: name '{twice[0]}' is used twice (each dataset "
                              "needs its own name)")
        models = [m.name for m in self.models]
        twice = sorted({n for n in models if models.count(n) > 1})
        if twice:
            raise cross_error(f"models: name '{twice[0]}' is used twice")
        for entry in self.datasets:
            unknown = sorted(set(entry.models) - set(models))
            if unknown:
                raise cross_error(f"datasets '{entry.name}'.models: '{unknown[0]}' is not a "
                                  f"model of the benchmark (models: {', '.join(models)})")
        control = self.statistics.control
        if control is not None and control not in models:
            raise cross_error(f"statistics.control: '{control}' is not a model of the "
                              f"benchmark (models: {', '.join(models)})")
        return self

    @property
    def control(self) -> str:
        """The model every other one is tested against."""
        if self.statistics.control is not None:
            return self.statistics.control
        logits = [m.name for m in self.models if m.family == "logit"]
        return logits[0] if logits else self.models[0].name


def _where(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """A dotted key with a dataset's name in place of its index (datasets.german.table)."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and loc[i - 1] == "datasets":
            entries = raw.get("datasets") or []
            name = entries[part].get("name") if part < len(entries) and \
                isinstance(entries[part], dict) else None
            parts.append(f"'{name}'" if name else str(part))
        else:
            parts.append(str(part))
    return ".".join(parts)


def benchmark_from_dict(raw: Any, source: str = "benchmark", base_dir: Path | None = None
                        ) -> BenchmarkConfig:
    """A validated benchmark config; one line naming every mistake and what is valid."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a benchmark config is a mapping (name, seeds, datasets, "
                          "models, ...)")
    if "base_dir" in raw:  # set from the file's place, never written
        raise ConfigError(f"{source}: base_dir: unknown key")
    try:
        return BenchmarkConfig.model_validate({**raw, "base_dir": base_dir or Path(".")})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _where(tuple(err["loc"]), raw)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required"
            problems.append(msg if err["type"] == "cross_section" or not where
                            else f"{where}: {msg}")
        raise ConfigError(f"{source}: {problems_line(problems)}") from None


def load_benchmark_config(path: str | Path) -> BenchmarkConfig:
    """Read and validate a benchmark YAML file (relative paths: to its folder)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such benchmark config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at}") from None
    return benchmark_from_dict(raw, str(path), path.resolve().parent)
