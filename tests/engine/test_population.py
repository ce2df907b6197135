"""The population drawn in partitions: the same citizens whatever the partitioning."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scorelab.engine.dask.population import (
    generate_partitioned,
    merged_intercept,
    partition_bounds,
    rate_sums,
)
from scorelab.config import SyntheticPopulation
from scorelab.data import synthetic
from scorelab.data.synthetic import draw_exogenous, generate_population, solve_intercept

CFG = SyntheticPopulation(n_citizens=2_000)


@pytest.fixture(scope="module")
def in_one() -> pd.DataFrame:
    return generate_partitioned(CFG, 11, 1)[0].frame


@pytest.mark.parametrize("parts", [3, 7])
def test_any_partitioning_gives_the_same_citizens(in_one: pd.DataFrame, parts: int) -> None:
    population, frames, bounds = generate_partitioned(CFG, 11, parts)
    assert len(frames) == len(bounds) == parts
    assert [len(f) for f in frames] == [b - a for a, b in bounds]
    pd.testing.assert_frame_equal(population.frame, in_one, check_exact=True)


def test_partitions_across_stream_blocks_give_the_same_citizens(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Citizens of later blocks (here blocks of 700) come out the same in any partition."""
    monkeypatch.setattr(synthetic, "BLOCK_CITIZENS", 700)
    frames = [generate_partitioned(CFG, 11, parts)[0].frame for parts in (1, 3, 7)]
    for other in frames[1:]:
        pd.testing.assert_frame_equal(other, frames[0], check_exact=True)
    monkeypatch.undo()
    single = generate_partitioned(CFG, 11, 1)[0].frame  # block 0 is untouched by blocking
    drawn = [c for c in single if c not in ("true_pd", "true_default", "defaulted")]
    pd.testing.assert_frame_equal(frames[0][drawn].iloc[:700], single[drawn].iloc[:700],
                                  check_exact=True)
    assert not np.allclose(frames[0]["income"].to_numpy()[700:],
                           single["income"].to_numpy()[700:])


def test_partitioned_equals_the_local_generator(in_one: pd.DataFrame) -> None:
    """Every column equal bit for bit but true_pd, whose intercept is solved from exact
    merged sums instead of one float mean (equal to 1e-12); labels identical."""
    local = generate_population(CFG, 11).frame
    pd.testing.assert_frame_equal(in_one.drop(columns="true_pd"),
                                  local.drop(columns="true_pd"), check_exact=True)
    np.testing.assert_allclose(in_one["true_pd"], local["true_pd"], rtol=1e-12, atol=0)


def test_the_local_stream_is_unchanged_for_populations_within_a_block() -> None:
    """Block 0 is the single named stream of before: existing configs draw the same."""
    noise = draw_exogenous(500, 3)
    for name in ("age", "sex", "income", "late_payments"):
        rng = np.random.default_rng(np.random.SeedSequence([3, zlib.crc32(name.encode())]))
        if name == "age":
            expected = 18.0 + 62.0 * rng.beta(1.6, 2.6, 500)
        elif name in synthetic._UNIFORMS:
            expected = rng.random(500)
        else:
            expected = rng.standard_normal(500)
        np.testing.assert_array_equal(noise[name], expected)


def test_rate_sums_merge_exactly_and_solve_the_local_intercept() -> None:
    risk = np.random.default_rng(1).normal(size=10_001)
    whole = rate_sums(risk, -1.2)
    split = [rate_sums(risk[a:b], -1.2) for a, b in partition_bounds(risk.size, 7)]
    assert tuple(map(sum, zip(*split, strict=True))) == whole
    c = merged_intercept(lambda c: [rate_sums(risk, c)], risk.size, 0.2)
    assert c == pytest.approx(solve_intercept(risk, 0.2), abs=1e-8)


def test_partition_bounds_cover_every_citizen_once() -> None:
    bounds = partition_bounds(10, 3)
    assert bounds[0][0] == 0 and bounds[-1][1] == 10
    assert all(b == a2 for (_, b), (a2, _) in zip(bounds, bounds[1:], strict=False))
    assert partition_bounds(2, 5) == [(0, 1), (1, 2)]


def test_decision_cells_read_the_fairness_kernel_and_merge_exactly() -> None:
    """compute.counts reads fairness.counts' GroupCounts: partition counts added with +
    give the one-pass cells, and the rates equal direct means."""
    from functools import reduce
    from operator import add

    from scorelab.fairness.decisions import decision_cells, decision_rates
    from scorelab.fairness.counts import bootstrap_weights, count_groups, score_edges

    rng = np.random.default_rng(3)
    n = 1_001
    g, ok, y, p = (rng.integers(0, 3, n), rng.random(n) < 0.6, rng.random(n) < 0.2,
                   rng.random(n))
    edges, ones = score_edges(p), bootstrap_weights(np.arange(n), 0, 0)

    def cells(a: int, b: int) -> Any:
        return count_groups(g[a:b], 3, [y[a:b]], ok[a:b], p[a:b], 500 * p[a:b], ones[a:b],
                            edges)

    whole = decision_cells(cells(0, n))
    merged = decision_cells(reduce(add, [cells(a, b) for a, b in partition_bounds(n, 7)]))
    np.testing.assert_array_equal(merged, whole)
    for k in range(3):
        m = g == k
        assert whole[k].tolist() == [int((~ok[m] & ~y[m]).sum()), int((~ok[m] & y[m]).sum()),
                                     int((ok[m] & ~y[m]).sum()), int((ok[m] & y[m]).sum())]
        assert decision_rates(whole)["default_rate_approved"][k] == y[m & ok].mean()
