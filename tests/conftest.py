"""Shared fixtures: small configs and populations that tests can afford."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scorelab.config import ExperimentConfig, config_from_dict

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"


def make_config(overrides: dict[str, Any] | None = None, n: int = 20_000,
                seed: int = 7) -> ExperimentConfig:
    """A config with ``n`` citizens and nested ``overrides`` merged into the defaults."""
    raw: dict[str, Any] = {"seed": seed, "population": {"n_citizens": n}}
    _merge(raw, overrides or {})
    return config_from_dict(raw)


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@pytest.fixture
def default_config_path() -> Path:
    return DEFAULT_CONFIG
