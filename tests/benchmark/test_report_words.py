"""The benchmark report's page one, from planted results (no study runs): the words
follow the numbers (which family, its fairness rank, ties said as ties, the warning on
few datasets) and both formats render."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from scorelab.benchmark.command import compute_statistics
from scorelab.benchmark.config import benchmark_from_dict
from scorelab.benchmark.report import headline, render


def _results(n: int = 12) -> pd.DataFrame:
    """'strong' has the best AUC everywhere and the worst four-fifths ratio; 'fair' the
    reverse; the scorecard sits between; every model ties on the Brier score."""
    rng = np.random.default_rng(5)
    rows = []
    for d in range(n):
        base = rng.uniform(0.65, 0.8)
        values = {"auc": {"scorecard": base, "strong": base + 0.05, "fair": base - 0.03},
                  "brier": {"scorecard": 0.2, "strong": 0.2, "fair": 0.2},
                  "worst_approval_ratio": {"scorecard": 0.8, "strong": 0.7, "fair": 0.95},
                  "auc_diff_vs_control": {"strong": 0.05, "fair": -0.03},
                  "p_vs_control": {"strong": 0.001, "fair": 0.01}}
        for metric, by_model in values.items():
            rows += [(f"d{d:02d}", 1, model, metric, v) for model, v in by_model.items()]
    table = pd.DataFrame(rows, columns=["dataset", "seed", "model", "metric", "value"])
    table["fold"] = pd.array([pd.NA] * len(table), dtype="Int64")
    return table


def _config(n_models: int = 3):
    return benchmark_from_dict({
        "name": "planted", "seeds": [1],
        "datasets": [{"name": "d", "config": "unused.yaml"}],
        "models": [{"family": "logit", "name": "scorecard"},
                   {"family": "trees", "name": "strong"},
                   {"family": "trees", "name": "fair"}][:n_models],
        "statistics": {"metrics": ["auc", "brier", "worst_approval_ratio"],
                       "bayes_samples": 2000}})


@pytest.fixture(scope="module")
def stats() -> dict[str, Any]:
    """Computed once: the figures (matplotlib) take seconds on a loaded machine."""
    return compute_statistics(_config(), _results(), [])


def test_page_one_says_which_family_at_what_cost_and_how_sure(stats: dict[str, Any]) -> None:
    lines = headline(stats)
    assert lines[0].startswith("Which family: strong has the best average AUC rank "
                               "(1.00 of 3) over 12 datasets")
    assert "the families differ" in lines[0]
    assert "strong wins 12, ties 0 and loses 0 datasets" in lines[1]
    assert "P(better) = 1.00" in lines[1]
    assert "on the worst four-fifths ratio, strong ranks 3.00 of 3 and fair ranks best " \
           "(1.00); Kendall's tau between the AUC and this ranking is -1.00" in lines[2]
    assert not any(line.startswith("Caution") for line in lines)  # 12 datasets
    assert sorted(stats["pareto_front"]) == ["fair", "scorecard", "strong"]  # a trade-off


def test_ties_are_said_as_ties_and_few_datasets_warned() -> None:
    results = _results(4)
    results = results[results["metric"] != "worst_approval_ratio"]
    ratio = _results(4).query("metric == 'brier'").assign(metric="worst_approval_ratio")
    stats = compute_statistics(_config(), pd.concat([results, ratio]), [], figures=False)
    lines = headline(stats)
    assert any("(every family ties there)" in line for line in lines)
    assert lines[-1].startswith("Caution: 4 dataset(s) are few")


def test_both_formats_render_with_figures(stats: dict[str, Any]) -> None:
    html, md = render(stats, "planted")
    assert html.count("<svg") == 4  # three CD diagrams and the Pareto chart
    assert "## Against the control (scorecard)" in md and "<svg" not in md
