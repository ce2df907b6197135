"""Every age analysis checked against the planted truth, over a matrix of scenarios;
and interval coverage of a study's populations.

A scenario is a synthetic config with some causes planted (``configs/scenarios/``). For
each scenario, :func:`validate_scenario` runs the study in memory and reads the checks
every synthetic run makes of its own age analyses against what the population model
planted (:mod:`scorelab.truth.planted`, written to ``validity.json`` by a run): one
row per analysis and model with what was planted, what the analysis recovered (with its
interval), what was expected and whether it held. :func:`interval_coverage` unpacks a
config and runs :func:`scorelab.truth.coverage.interval_coverage` on its models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.config import ExperimentConfig, load_config
from scorelab.data.synthetic import SCHEMA, generate_population
from scorelab.exceptions import ConfigError
from scorelab.study.plan import Plan
from scorelab.study.runner import run_study
from scorelab.truth import coverage
from scorelab.truth.planted import Check, planted_truth, truth_checks

__all__ = ["SCENARIO_DIR", "Check", "interval_coverage", "label_bias_sweep",
           "scenario_configs", "validate", "validate_scenario"]

#: The scenario matrix shipped with the repository.
SCENARIO_DIR = Path(__file__).resolve().parents[3] / "configs" / "scenarios"


def scenario_configs(names: Sequence[str] | None = None,
                     directory: Path = SCENARIO_DIR) -> dict[str, ExperimentConfig]:
    """The scenario configs by name (file stem), all of them when ``names`` is empty."""
    files = {p.stem: p for p in sorted(Path(directory).glob("*.yaml"))}
    wanted = list(names) if names else list(files)
    unknown = [n for n in wanted if n not in files]
    if unknown:
        raise ConfigError(f"unknown scenario(s) {', '.join(unknown)}; known: "
                          f"{', '.join(files) or '(none in ' + str(directory) + ')'}")
    return {n: load_config(files[n]) for n in wanted}


def validate_scenario(name: str, config: ExperimentConfig) -> list[Check]:
    """Run one scenario in memory and check each age analysis against the planted truth."""
    plan = Plan.of(config)
    population = generate_population(config.population, config.seed)
    result = run_study(plan, population, {})
    fairness = (result.fairness.model_dump(mode="json", exclude_unset=True)
                if result.fairness is not None else {})
    return truth_checks(name, config.population, population.frame, fairness, seed=plan.seed,
                        age=plan.age, twin_age_shift=plan.fairness.twin_age_shift,
                        features=population.features,
                        inputs={m.name: m.columns for m in result.models})


def validate(names: Sequence[str] | None = None, directory: Path = SCENARIO_DIR,
             overrides: dict[str, Any] | None = None,
             on_scenario: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Validate each scenario; one row per check (see :class:`Check`).

    ``overrides`` (dotted keys, e.g. ``{"population.n_citizens": 4000, "seed": 3}``)
    apply to every scenario.
    """
    rows: list[dict[str, Any]] = []
    for name, config in scenario_configs(names, directory).items():
        if on_scenario is not None:
            on_scenario(name)
        if overrides:
            config = config.with_(overrides)
        rows += [asdict(c) for c in validate_scenario(name, config)]
    return pd.DataFrame(rows, columns=[f for f in Check.__dataclass_fields__])


def label_bias_sweep(flip_rates: Sequence[float], scenario: str = "proxy_and_label_bias",
                     overrides: dict[str, Any] | None = None,
                     directory: Path = SCENARIO_DIR) -> pd.DataFrame:
    """The label part of the age gap at each planted flip rate (the young's true
    non-defaulters recorded as defaults), every model re-trained on the true outcome.

    One row per flip rate and model: flip_rate, model, labels_gap (the gap the labels
    themselves carry, in the model's points: the most that could reach the scores),
    estimate, low, high, method.
    """
    base = scenario_configs([scenario], directory)[scenario].with_(
        {**(overrides or {}), "fairness.label_bias_refit": True,
         "population.causes.label_bias.enabled": True,
         "population.causes.label_bias.group.attribute": "young"})
    rows = []
    for rate in flip_rates:
        config = base.with_({"population.causes.label_bias.flip_rate": float(rate)})
        plan = Plan.of(config)
        population = generate_population(config.population, config.seed)
        result = run_study(plan, population, {})
        truth = planted_truth(config.population, population.frame, seed=plan.seed,
                              age=plan.age, twin_age_shift=plan.fairness.twin_age_shift)
        models = result.fairness.models if result.fairness is not None else {}
        for model, entry in models.items():
            d = (entry.get("age") or {}).get("decomposition") or {}
            low, high = (d.get("intervals") or {}).get("label_bias", (None, None))
            rows.append({"flip_rate": float(rate), "model": model,
                         "labels_gap": truth["label_gap_logit"]
                         * float(d.get("slope_points_per_logit", float("nan"))),
                         "estimate": d.get("label_bias"), "low": low, "high": high,
                         "method": d.get("label_bias_method")})
    return pd.DataFrame(rows)


def interval_coverage(config: ExperimentConfig, draws: int = 20, n_citizens: int = 2000,
                      reference_citizens: int | None = None, bootstrap: int | None = None
                      ) -> pd.DataFrame:
    """Do a synthetic study's intervals contain the population values? Its models are
    trained once and judged on ``draws`` re-drawn populations
    (:func:`scorelab.truth.coverage.interval_coverage`, one row per draw, model and
    statistic)."""
    plan = Plan.of(config)
    models, _ = plan.prepare(SCHEMA)
    return coverage.interval_coverage(
        config.population, models, fairness=plan.fairness, decision=plan.decision,
        scale=plan.scale, age=plan.age, seed=plan.seed, sample=plan.sample, draws=draws,
        n_citizens=n_citizens, reference_citizens=reference_citizens, bootstrap=bootstrap)
