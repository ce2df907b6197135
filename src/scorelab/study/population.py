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
from scorelab.core.messages import problems_line
from scorelab.data.card import build_data_card, render_data_card_markdown
from scorelab.data.io import check_writable, population_paths, write_population
from scorelab.data.loaders import load_table_population
from scorelab.data.provenance import synthetic_provenance, table_provenance
from scorelab.data.quality import Finding, table_findings
from scorelab.data.synthetic import Population, generate_population
from scorelab.engine import require_models
from scorelab.engine.dask.cluster import check_backend
from scorelab.exceptions import ConfigError, DataError, ScorelabError
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
        findings = table_findings(pop)
        if findings and config.population.findings == "error":
            raise DataError(strict_message(findings))
        pop.meta["config_hash"] = config_hash(config)
        pop.meta["source"] = "table"
        pop.meta["quality"] = [f.as_dict() for f in findings]
        path = config.population.path
        read = pop.meta.get("path")  # the file the loader read (a bundled copy, say)
        card = build_data_card(pop, plan.age.bands,
                               extra={"table": str(path or "a DataFrame given from Python"),
                                      "provenance": table_provenance(
                                          pop, Path(read) if frame is None and read else None,
                                          config.population.date_column)})
        return pop, card
    pop = (generator or generate_population)(config.population, config.seed)
    pop.meta["config_hash"] = config_hash(config)
    pop.meta["source"] = "synthetic"
    pop.meta["age_column"] = plan.age.column
    check_population(plan, pop)
    card = build_data_card(
        pop,
        plan.age.bands,
        extra={"causes": config.population.causes.model_dump(mode="json"),
               "provenance": synthetic_provenance(pop, config.seed)},
    )
    return pop, card


def strict_message(findings: list[Finding]) -> str:
    """The one line refusing a table with data-quality findings under
    ``population.findings: error`` (``--strict``): how many, and the first."""
    more = (f" (and {len(findings) - 1} more finding{'s' if len(findings) > 2 else ''})"
            if len(findings) > 1 else "")
    return (f"population.findings is error (or --strict), and the table has a "
            f"data-quality finding: {findings[0].message}{more}")


def check_population(plan: Plan, population: Population) -> None:
    """What needs both the config and the data, checked before any model is fitted: the
    audited attributes and their missing values, every rule table's values, the columns
    each model names and the explanation budget for its inputs. Every check runs, for
    every model: one line names each problem found (the first ``MAX_PROBLEMS``)."""
    age_column = plan.age.column
    checks: list[Callable[[], None]] = [lambda: check_audited_values(plan.fairness,
                                                                     population)]
    for check in (check_rule_values, check_model_columns):
        checks += [lambda c=check, m=model: c([m], population, age_column)
                   for model in plan.models]
    checks += [lambda m=model: check_explain_budget([m], plan.explain, population,
                                                    age_column) for model in plan.models]
    _raise_all(_problems(checks))


def _problems(checks: list[Callable[[], Any]]) -> list[ScorelabError]:
    """The error of each check that fails (each check runs whatever the others found)."""
    found = []
    for check in checks:
        try:
            check()
        except (ConfigError, DataError) as exc:
            found.append(exc)
    return found


def _raise_all(problems: list[ScorelabError]) -> None:
    """Nothing, or one error of the first problem's type naming them all."""
    if problems:
        raise type(problems[0])(problems_line([str(p) for p in problems]))


def check_study(config: ExperimentConfig) -> Population:
    """Every check ``run`` makes before fitting, without fitting: the model list (the
    plan), the compute backend (the Dask extra, a reachable scheduler) and everything
    that needs the data (:func:`check_population`); the population it drew or read.

    One pass: the models, the backend and the data are each checked whatever the others
    found (the data with no models when the model list has a problem), and one line
    names every problem (the first ``MAX_PROBLEMS``)."""
    require_models(config.models)  # as run does: no models is an error, not "ok, 0 models"
    problems: list[ScorelabError] = []
    try:
        plan = Plan.of(config)
    except ConfigError as exc:
        problems.append(exc)
        try:
            plan = Plan.of(config.model_copy(update={"models": []}))
        except ConfigError:
            _raise_all(problems)
            raise
    found: dict[str, Population] = {}

    def data() -> None:
        found["population"] = population_for(plan)[0]

    problems += _problems([lambda: check_backend(config.compute), data])
    _raise_all(problems)
    return found["population"]


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
