"""`scorelab compare` shows a defaulted parameter's value (read from the model card)
rather than `None -> 0.02` (issue 31)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorelab.report.compare import Defaulted, compare_markdown, compare_runs
from scorelab.study.runner import run
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # two small studies


def _study(runs_dir: Path, params: dict) -> Path:
    config = make_config({"name": "dflt",
                          "models": [{"family": "trees", "name": "lightgbm",
                                      "params": {"n_estimators": 30, **params}}],
                          "evaluation": {"folds": 3, "bootstrap": 10},
                          "explain": {"enabled": False}, "fairness": {"enabled": False},
                          "output": {"save_models": "final"}, "report": {"formats": ["md"]}},
                         n=800, seed=3)
    result = run(config, runs_dir=runs_dir)
    assert result.run_dir is not None
    return result.run_dir


def test_a_defaulted_parameter_shows_its_value(tmp_path: Path) -> None:
    before = _study(tmp_path / "a", {})
    after = _study(tmp_path / "b", {"learning_rate": 0.02})
    comparison = compare_runs([before, after])
    (changes,) = comparison.config_changes.values()
    assert changes == [("models[lightgbm].params.learning_rate", Defaulted(0.03, True), 0.02)]
    assert "params.learning_rate: 0.03 (default) → 0.02" in compare_markdown(comparison)
    assert comparison.as_dict()["config_changes"][comparison.runs[1]][0]["before"] == \
        "0.03 (default)"
    back = compare_runs([after, before]).config_changes
    assert list(back.values())[0][0][2] == Defaulted(0.03, True)
