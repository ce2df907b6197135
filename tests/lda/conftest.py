"""Small searches shared by the lda tests (module-scoped: each is trained once)."""

from __future__ import annotations

from typing import Any

import pytest

from scorelab.config import ExperimentConfig, config_from_dict, load_config
from scorelab.lda import LdaSearch, run_search
from scorelab.study.population import population_for

SCENARIOS = "configs/scenarios"
#: A fast search: LightGBM with the proxies dropped singly and together, one seed, in
#: one process (starting worker processes costs more than these tiny fits).
SMALL = {"evaluation.folds": 3, "evaluation.n_jobs": 1, "evaluation.bootstrap": 50,
         "fairness.bootstrap": 50,
         "models": [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                     "params": {"n_estimators": 100, "learning_rate": 0.08}}],
         "lda.young_below": 35, "lda.families": ["trees/lightgbm"],
         "lda.params": {"trees/lightgbm": {"n_estimators": [100], "learning_rate": [0.08]}},
         "lda.seeds": 1, "lda.mitigation": False, "lda.batch_size": 4, "lda.bootstrap": 100}


def scenario(name: str, n: int, **changes: Any) -> ExperimentConfig:
    """A scenario config of the validity matrix, scaled down for the search."""
    overrides = {**SMALL, "population.n_citizens": n, **changes}
    return load_config(f"{SCENARIOS}/{name}.yaml", overrides)


def search(config: ExperimentConfig, **kwargs: Any) -> LdaSearch:
    population, _ = population_for(config)
    return run_search(config, population, **kwargs)


@pytest.fixture(scope="module")
def proxy_search() -> LdaSearch:
    return search(scenario("age_proxy", 3000))


__all__ = ["config_from_dict", "scenario", "search"]
