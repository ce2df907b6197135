"""Fixtures shared by the family tests: the default population at 20k citizens."""

from __future__ import annotations

import pytest

from scorelab.config import config_from_dict
from scorelab.data import generate_population


@pytest.fixture(scope="session")
def population():
    cfg = config_from_dict({"seed": 1, "population": {"n_citizens": 20_000}})
    return generate_population(cfg.population, cfg.seed)


@pytest.fixture(scope="session")
def data(population):
    return population.frame[population.features], population.frame["defaulted"]
