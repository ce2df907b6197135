"""Every age analysis checked against the planted truth (issue 19).

A scenario is a synthetic config with some causes planted (``configs/scenarios/``). For
each scenario, :func:`validate_scenario` runs the study in memory and reads the checks
every synthetic run makes of its own age analyses against what the population model
planted (:mod:`scorelab.fairness.planted`, written to ``validity.json`` by a run): one
row per analysis and model with what was planted, what the analysis recovered (with its
interval), what was expected and whether it held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.config import ExperimentConfig, load_config
from scorelab.data.synthetic import generate_population
from scorelab.exceptions import ConfigError
from scorelab.fairness.planted import Check, planted_truth, truth_checks
from scorelab.protocol import prepare_models
from scorelab.study import run_study

__all__ = ["SCENARIO_DIR", "Check", "label_bias_sweep", "planted_truth", "scenario_configs",
           "validate", "validate_scenario"]

#: The scenario matrix shipped with the repository.
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "configs" / "scenarios"


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
    population = generate_population(config.population, config.seed)
    result = run_study(config, population, {})
    models, _ = prepare_models(config, population.schema)
    return truth_checks(name, config, population.frame, result.fairness or {},
                        features=population.features,
                        inputs={m.name: m.columns for m in models})


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
        population = generate_population(config.population, config.seed)
        result = run_study(config, population, {})
        truth = planted_truth(config, population.frame)
        for model, entry in (result.fairness or {}).get("models", {}).items():
            d = (entry.get("age") or {}).get("decomposition") or {}
            low, high = (d.get("intervals") or {}).get("label_bias", (None, None))
            rows.append({"flip_rate": float(rate), "model": model,
                         "labels_gap": truth["label_gap_logit"]
                         * float(d.get("slope_points_per_logit", float("nan"))),
                         "estimate": d.get("label_bias"), "low": low, "high": high,
                         "method": d.get("label_bias_method")})
    return pd.DataFrame(rows)
