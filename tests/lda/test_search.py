"""The must-hold properties of the search, on scaled-down scenario populations.

A planted age proxy (no legitimate age effect): an alternative within the 0.005
tolerance brings the young/rest approval ratio closer to 1 and the truth check on a fresh
population confirms it. A legitimate age effect and no proxy: no alternative within
tolerance reduces disparity significantly. Heavier versions are marked slow.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from scorelab.lda import LdaSearch
from tests.lda.conftest import scenario, search

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`


def _chosen(result: LdaSearch, tolerance: float) -> dict:
    return next(c for c in result.choices if c["tolerance"] == tolerance)


def test_planted_proxy_alternative_found_and_confirmed(proxy_search: LdaSearch) -> None:
    choice = _chosen(proxy_search, 0.005)
    assert choice["chosen"] is not None
    table = proxy_search.table.set_index("candidate")
    ref_air = proxy_search.reference["air_age"]
    assert abs(1 - table.at[choice["chosen"], "air_age"]) < abs(1 - ref_air)
    assert table.at[choice["chosen"], "dropped"]  # it drops an age proxy
    truth = {r["model"]: r for r in proxy_search.truth["rows"]}
    check = truth[choice["chosen"]]
    assert proxy_search.truth["possible"] and proxy_search.truth["outcome"] == "true"
    assert check["reduction_interval"][0] > 0
    assert check["accuracy_holds"] and check["good_payers_hold"] and check["holds"]


def test_frontier_is_non_dominated_and_artifact_columns_complete(proxy_search: LdaSearch
                                                                  ) -> None:
    t = proxy_search.table
    for _, row in t[t["frontier"]].iterrows():
        better = (t["auc"] >= row["auc"]) & (t["disparity"] <= row["disparity"]) & \
            ((t["auc"] > row["auc"]) | (t["disparity"] < row["disparity"]))
        assert not better.any()
    for column in ("air_age", "smd_age", "frr_gap_age", "auc_loss", "auc_loss_se", "ks"):
        assert t[column].notna().all()


@pytest.mark.slow
def test_bound_shrinks_with_budget() -> None:
    small = search(scenario("age_proxy", 3000, **{"lda.seeds": 3, "lda.stop_bound": 1e-6,
                                                  "lda.batch_size": 4}), budget=12)
    bounds = [h["bound"] for h in small.stopping["history"]]
    assert len(bounds) == 3
    assert all(b2 <= b1 for b1, b2 in itertools.pairwise(bounds))
    assert bounds[-1] < bounds[0]


def test_search_is_deterministic() -> None:
    config = scenario("none", 500, **{"lda.bootstrap": 50})
    first, second = search(config, budget=2), search(config, budget=2)
    pd.testing.assert_frame_equal(first.table.drop(columns='fit_seconds'),
                                  second.table.drop(columns='fit_seconds'))
    assert first.choices == second.choices and first.truth == second.truth


def test_legitimate_age_effect_gives_no_false_discovery() -> None:
    result = search(scenario("legitimate_age_effect", 3000, **{"lda.seeds": 2}))
    assert len(result.table) >= 2  # model multiplicity: more than one draw to be fooled by
    assert result.choices and not any(c["significant"] for c in result.choices)
    for c in result.choices:  # nothing to adopt: at most worth a look, with the reason
        assert c["decision"] in ("consider", "none") and "<= 0" in c["statement"] \
            or c["chosen"] is None


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_larger_populations_hold_both_ways(seed: int) -> None:
    wide = {"seed": seed, "lda.seeds": 2, "evaluation.n_jobs": 2,  # workers share bins
            "lda.families": ["trees/lightgbm", "logit/scorecard"]}
    proxy = search(scenario("age_proxy", 8000, **wide))
    choice = _chosen(proxy, 0.005)
    assert choice["chosen"] is not None and choice["significant"]
    assert next(r for r in proxy.truth["rows"] if r["model"] == choice["chosen"])["holds"]
    legit = search(scenario("legitimate_age_effect", 8000, **wide))
    assert not any(c["significant"] for c in legit.choices)
    assert np.isfinite(legit.stopping["bound"])
