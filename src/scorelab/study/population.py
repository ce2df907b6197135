"""``scorelab generate``: draw the configured population and write it with its data card."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.config import (
    ExperimentConfig,
    SyntheticPopulation,
    TablePopulation,
    config_hash,
)
from scorelab.data.card import build_data_card, render_data_card_markdown
from scorelab.data.io import check_writable, population_paths, write_population
from scorelab.data.loaders import load_table_population
from scorelab.data.synthetic import Population, generate_population
from scorelab.engine import require_models
from scorelab.engine.dask.cluster import check_backend
from scorelab.exceptions import ConfigError
from scorelab.study.plan import Plan
from scorelab.study.preflight import (
    check_audited_values,
    check_explain_budget,
    check_model_columns,
    check_rule_values,
)


@dataclass
class GeneratedPopulation:
    """A population with its data card, as written to disk."""

    population: Population
    card: dict[str, Any]
    card_markdown: str
    paths: list[Path]


def population_for(plan: Plan | ExperimentConfig, frame: pd.DataFrame | None = None,
                   generator: Callable[[SyntheticPopulation, int], Population] | None = None
                   ) -> tuple[Population, dict[str, Any]]:
    """The population a study describes (synthetic or a table), checked against the
    plan (:func:`check_population`), and its data card.

    ``frame`` is a table study's table given from Python instead of ``population.path``;
    ``generator`` draws the synthetic population (default: here; a Dask backend draws it
    partition by partition on its workers).
    """
    plan = Plan.of(plan)
    config = plan.config
    if frame is not None and not isinstance(config.population, TablePopulation):
        raise ConfigError("a DataFrame population needs a table study: set population to "
                          "{source: table, target: <outcome column>, default_value: <value "
                          "meaning default>}")
    if isinstance(config.population, TablePopulation):
        pop = load_table_population(config.population, folds=config.evaluation.folds,
                                    frame=frame)
        check_population(plan, pop)
        pop.meta["config_hash"] = config_hash(config)
        pop.meta["source"] = "table"
        card = build_data_card(pop, plan.age.bands,
                               extra={"table": str(config.population.path or
                                                   "a DataFrame given from Python")})
        return pop, card
    pop = (generator or generate_population)(config.population, config.seed)
    pop.meta["config_hash"] = config_hash(config)
    pop.meta["source"] = "synthetic"
    pop.meta["age_column"] = plan.age.column
    check_population(plan, pop)
    card = build_data_card(
        pop,
        plan.age.bands,
        extra={"causes": config.population.causes.model_dump(mode="json")},
    )
    return pop, card


def check_population(plan: Plan, population: Population) -> None:
    """What needs both the config and the data, checked before any model is fitted: the
    audited attributes and their missing values, every rule table's values, the columns
    each model names and the explanation budget for its inputs."""
    age_column = plan.age.column
    check_audited_values(plan.fairness, population)
    check_rule_values(plan.models, population, age_column)
    check_model_columns(plan.models, population, age_column)
    check_explain_budget(plan.models, plan.explain, population, age_column)


def check_study(config: ExperimentConfig) -> Population:
    """Every check ``run`` makes before fitting, without fitting: the model list (the
    plan), the compute backend (the Dask extra, a reachable scheduler) and everything
    that needs the data (:func:`check_population`); the population it drew or read."""
    require_models(config.models)  # as run does: no models is an error, not "ok, 0 models"
    plan = Plan.of(config)
    check_backend(config.compute)
    population, _ = population_for(plan)
    return population


def generate_to_file(config: ExperimentConfig, out: str | Path,
                     force: bool = False) -> GeneratedPopulation:
    """Generate the population of ``config`` and write it to ``out`` (Parquet + data card).

    The output paths are checked before any work, so a refused path costs nothing.
    """
    if isinstance(config.population, TablePopulation):
        raise ConfigError("generate draws synthetic populations; this config's population is "
                          "a table (population.source: table): use 'scorelab run' on it")
    out = Path(out)
    check_writable(list(population_paths(out)), force)
    pop, card = population_for(Plan.of(config))
    markdown = render_data_card_markdown(card, title=f"Data card: {out.name}")
    paths = write_population(pop, out, card, markdown, force=force)
    return GeneratedPopulation(pop, card, markdown, paths)
