"""The explanations table, global importance, agreement, true drivers, reason codes and
the citizen's letter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scorelab.config import config_from_dict
from scorelab.data import SCHEMA, SOURCES, generate_population
from scorelab.explain import (
    Explanation,
    agreement,
    explanations_table,
    global_importance,
    Reason,
    letter,
    points_of,
    true_drivers,
)
from scorelab.explain.importance import TABLE_COLUMNS


def _explanation(values, columns, method="additive (exact)"):
    values = np.asarray(values, dtype=float)
    base = np.full(len(values), -1.5)
    return Explanation(values, base, base + values.sum(1), list(columns), method)


X = pd.DataFrame({"late_payments": [4, 0], "income": [2.34567, np.nan],
                  "marital_status": pd.Categorical(["married", "single"]),
                  "expert_points": [910.0, 1000.0]})
COLS = list(X.columns)


@pytest.fixture
def table():
    a = explanations_table([7, 8], "lgbm", "trees",
                           _explanation([[0.62, 0.1, -0.3, 0.0], [-0.2, 0.0, 0.05, 0.4]],
                                        COLS), X, SCHEMA)
    b = explanations_table([7, 8], "rules", "expert",
                           _explanation([[0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -0.1]],
                                        COLS), X, SCHEMA)
    return pd.concat([a, b], ignore_index=True)


def test_table_format(table):
    assert list(table.columns) == TABLE_COLUMNS
    assert len(table) == 2 * 2 * 4
    row = table[(table.citizen_id == 7) & (table.model == "lgbm")].set_index("feature")
    assert row.loc["late_payments", "value"] == "4"
    assert row.loc["late_payments", "source"] == "business"
    assert row.loc["marital_status", "source"] == "administrative"
    assert row.loc["income", "value"] == "2.35"
    assert row.loc["expert_points", "source"] == "derived"
    other = table[(table.citizen_id == 8) & (table.model == "lgbm")].set_index("feature")
    assert other.loc["income", "value"] == "missing"
    # the rows reproduce the output
    assert row["base_value"].iloc[0] + row["shap"].sum() == pytest.approx(row["output"].iloc[0])


def test_global_importance_shares(table):
    imp = global_importance(table)
    assert imp["scale"] == "log-odds of default"
    m = imp["models"]["lgbm"]
    assert m["features"]["late_payments"] == pytest.approx((0.62 + 0.2) / 2)
    assert list(m["features"])[0] == "late_payments"  # descending
    assert sum(m["feature_share"].values()) == pytest.approx(1.0)
    assert sum(m["source_share"].values()) == pytest.approx(1.0)
    assert set(SOURCES) <= set(m["sources"]) and "derived" in m["sources"]
    assert m["sources"]["webspace"] == 0.0
    assert m["sources"]["business"] == pytest.approx(0.41 + 0.05)


def test_agreement(table):
    imp = global_importance(table)
    truth = {"late_payments": 1.0, "income": 0.5, "marital_status": 0.2, "expert_points": 0.0}
    ag = agreement(imp, truth)
    assert ag["method"] == "spearman"
    (pair,) = ag["pairs"]
    assert {pair["a"], pair["b"]} == {"lgbm", "rules"}
    assert -1.0 <= pair["spearman"] <= 1.0
    assert ag["matrix"]["lgbm"]["rules"] == pair["spearman"]
    assert set(ag["vs_truth"]) == {"lgbm", "rules"}


def test_points_of_is_the_scale_slope():
    factor = 20 / np.log(2)  # pdo 20
    # one doubling of the odds of default costs exactly pdo points
    assert points_of(np.log(2), factor) == pytest.approx(-20.0)
    assert points_of(-np.log(2), factor) == pytest.approx(20.0)
    assert str(points_of(0.0, factor)) == "0.0"  # never -0


def _reason(feature, source, value, log_odds, code=None, text=None):
    factor = 20 / np.log(2)
    return Reason(feature, source, value, points_of(log_odds, factor), log_odds, code, text)


def test_reason_lines_are_in_points_never_log_odds():
    r = _reason("debt_to_income", "business", "49.6%", 0.26, "S05",
                "Debt-to-income ratio too high")
    assert r.line() == ("[S05] Debt-to-income ratio too high: 49.6% (business data); "
                        "cost 8 points")
    assert r.points == pytest.approx(-0.26 * 20 / np.log(2))
    fav = _reason("income", "business", "3,000", -0.02)
    assert fav.line() == "income: 3,000 (business data); gained 1 point"
    tiny = _reason("income", "business", "3,000", 0.001)
    assert tiny.line().endswith("cost less than 1 point")
    d = r.as_dict()
    assert d["log_odds"] == 0.26 and d["points"] == pytest.approx(-7.502, abs=1e-4)


def test_letter_contents():
    reasons = [_reason("late_payments", "business", "4", 0.62, "S01", "Late payments"),
               _reason("income", "business", "missing", 0.1, "S02", "Income too low")]
    favourable = [_reason("marital_status", "administrative", "married", -0.3)]
    used = {"business": ["late_payments", "income"], "administrative": ["marital_status"],
            "derived": ["expert_points"]}
    text = letter(who="citizen 7", model="lgbm", score=571.4, category="D",
                  approved=False, cutoff=600, reasons=reasons, favourable=favourable,
                  method="the approved applicants' average", used=used,
                  change="late_payments from 4 to 1")
    assert "citizen 7" in text and "'lgbm'" in text
    assert "Score: 571" in text and "Category: D" in text
    assert "NOT APPROVED" in text and "cut-off of 600" in text
    assert "1. [S01] Late payments: 4 (business data); cost 18 points" in text
    assert "2. [S02] Income too low: missing (business data); cost 3 points" in text
    assert "In your favour (ranked the same way):" in text
    assert "marital_status: married (administrative data); gained 9 points" in text
    assert "late_payments from 4 to 1" in text
    assert "business data: late_payments, income" in text
    assert "administrative data: marital_status" in text
    assert "derived: expert_points" in text
    assert "Not used: personal, organisation, webspace data." in text
    assert "log-odds" not in text and "log odds" not in text
    ok = letter(who="citizen 7", model="lgbm", score=700, category="B", approved=True,
                cutoff=600, reasons=[], favourable=[], method="x", used=used)
    assert "APPROVED: your score is at or above the cut-off of 600" in ok


def test_true_drivers_definition():
    cfg = config_from_dict({"seed": 3, "population": {"n_citizens": 4000}})
    pop = generate_population(cfg.population, cfg.seed)
    feats = pop.features + ["situational_events", "health_events"]
    drivers = true_drivers(pop, feats, max_rows=4000)
    assert set(drivers) == set(feats)
    ranked = list(drivers)
    # debt-to-income is a direct cause of the true risk: among the top drivers
    assert "debt_to_income" in ranked[:3]
    # events do not change the true risk: no marginal association with it at all ...
    frame = pop.frame
    true_logit = np.log(frame["true_pd"] / (1 - frame["true_pd"]))
    for event in ("situational_events", "health_events"):
        assert abs(frame[event].corr(true_logit, method="spearman")) < 0.03
        # ... and in the multivariate model only the small share they earn by explaining
        # away the late payments they cause (a collider), far below late payments' own
        assert drivers[event] < 0.2 * drivers["late_payments"]
