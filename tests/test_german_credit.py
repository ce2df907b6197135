"""The bundled Statlog German credit table, its config, and the bundled-dataset list."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from scorelab.config import TablePopulation, load_config
from scorelab.data.loaders import load_table_population
from scorelab.data.synthetic import Population
from scorelab.data.datasets import list_datasets
from scorelab.models.expert import SuiningPoints
from scorelab.models.logit import LogitScorecard
from scorelab.models.registry import build_model
from scorelab.models.trees import LightGBMFamily

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "german_credit.yaml"
REAL = ROOT / "data" / "real"
RAW_SHA256 = "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871"


@pytest.fixture(scope="module")
def german() -> Population:
    cfg = load_config(CONFIG)
    assert isinstance(cfg.population, TablePopulation)
    return load_table_population(cfg.population, CONFIG.parent, folds=cfg.evaluation.folds)


def test_raw_file_is_the_statlog_file() -> None:
    raw = REAL / "german.data"
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == RAW_SHA256
    codes = pd.read_csv(raw, sep=" ", header=None)
    assert codes.shape == (1000, 21)
    assert codes[20].value_counts().to_dict() == {1: 700, 2: 300}
    assert (codes[1].mean(), codes[4].mean(), codes[12].mean()) == \
        pytest.approx((20.903, 3271.258, 35.546))


def test_csv_matches_the_raw_file() -> None:
    raw = pd.read_csv(REAL / "german.data", sep=" ", header=None)
    csv = pd.read_csv(REAL / "german_credit.csv")
    assert csv.shape == (1000, 23)
    assert csv["applicant_id"].tolist() == list(range(1, 1001))
    numeric = {"duration_months": 1, "credit_amount": 4, "installment_rate": 7,
               "residence_since": 10, "age": 12, "existing_credits": 15, "people_liable": 17}
    for name, i in numeric.items():
        assert csv[name].tolist() == raw[i].tolist(), name
    assert (csv["credit_risk"] == "bad").tolist() == (raw[20] == 2).tolist()
    assert (csv["sex"] == "female").tolist() == raw[8].isin(["A92", "A95"]).tolist()
    assert (csv["credit_history"] == "critical").tolist() == (raw[2] == "A34").tolist()
    assert (csv["foreign_worker"] == "yes").tolist() == (raw[19] == "A201").tolist()
    assert not csv.isna().any().any()


def test_german_table_loads(german: Population) -> None:
    frame, schema = german.frame, german.schema
    assert len(frame) == 1000
    assert int(frame["credit_risk"].sum()) == 300
    assert schema.target == "credit_risk"
    assert frame["age"].dtype == float and frame["age"].between(19, 75).all()
    assert schema.with_role("protected") == ["sex", "age", "foreign_worker"]
    assert "personal_status_sex" not in frame  # dropped: it encodes sex
    assert frame["citizen_id"].tolist() == list(range(1, 1001))
    assert len(german.features) == 17
    assert not set(german.features) & {"age", "sex", "foreign_worker", "credit_risk"}
    assert isinstance(frame["credit_history"].dtype, pd.CategoricalDtype)
    assert {schema[c].source for c in german.features} <= {
        "administrative", "personal", "business", "organisation"}


def test_label_level_age_gap(german: Population) -> None:
    age = german.frame["age"]
    good = german.frame["credit_risk"] == 0
    young, old = good[age <= 25].mean(), good[age > 25].mean()
    assert (round(young, 3), round(old, 3), round(young / old, 3)) == (0.579, 0.728, 0.795)
    assert round(good[age < 25].mean() / good[age >= 25].mean(), 3) == 0.821


def test_data_card_figures() -> None:
    card = json.loads((REAL / "german_credit.card.json").read_text())
    assert card["n_citizens"] == 1000
    assert card["observed_default_rate"] == pytest.approx(0.3)
    bands = {row["group"]: row["n"] for row in card["groups"]["age_band"]}
    assert bands == {"18-25": 190, "26-35": 398, "36-50": 299, "51-61": 75, "62+": 38}
    assert card["cost_matrix"]["bad_classified_good"] == 5
    assert card["label_level_age_gap"]["ratio_le25_vs_gt25"] == pytest.approx(0.7948, abs=1e-4)
    assert "CC BY 4.0" in (REAL / "LICENSE").read_text()


def _cv_auc(model, german: Population) -> float:
    X = german.frame[german.features]
    y = german.frame["credit_risk"].to_numpy()
    oof = np.empty(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=20211005).split(X, y):
        fitted = clone(model).fit(X.iloc[train], y[train])
        oof[test] = fitted.predict_proba(X.iloc[test])[:, 1]
    return float(roc_auc_score(y, oof))


@pytest.mark.parametrize("model", [LogitScorecard(random_state=0), LightGBMFamily()],
                         ids=["logit_scorecard", "lightgbm"])
def test_learned_families_reach_the_known_auc(german: Population, model) -> None:
    # literature and our measurement: about 0.78-0.80 (logit 0.779, LightGBM 0.785)
    assert 0.74 <= _cv_auc(model, german) <= 0.84


def test_every_configured_model_builds_and_the_expert_rules_fit(german: Population) -> None:
    cfg = load_config(CONFIG)
    models = {m.name: build_model(m) for m in cfg.models}
    assert set(models) == {"suining", "sesame", "scorecard", "random_forest", "lightgbm",
                           "mlp", "yim_mitchell", "expert_boost", "stacking", "ebm"}
    X = german.frame[german.features]
    y = german.frame["credit_risk"].to_numpy()
    suining = clone(models["suining"]).fit(X, y)
    assert suining.ignored_rules_ == []
    assert _cv_auc(models["suining"], german) > 0.6  # hand-written rules beat chance
    assert clone(models["sesame"]).fit(X, y).ignored_columns_ == []


def test_suining_value_rules_are_additive_and_neutral_when_unlisted() -> None:
    X = pd.DataFrame({
        "credit_history": pd.Categorical(["critical", "all_paid", "other", None]),
        "duration_months": [10.0, 0.0, 5.0, np.nan],
        "grade": [1.0, 2.0, 3.0, np.nan],
    })
    rules = {"credit_history": {"critical": -50, "all_paid": 30}, "duration_months": -1,
             "grade": {2: 7, "3": 9}}
    model = SuiningPoints(rules=rules).fit(X, [1, 0, 0, 1])
    contrib = model.contributions(X)
    assert contrib["credit_history"].tolist() == [-50, 30, 0, 0]
    assert contrib["duration_months"].tolist() == [-10, 0, -5, 0]
    assert contrib["grade"].tolist() == [0, 7, 9, 0]
    assert np.allclose(model.points(X), 1000 + contrib.sum(axis=1))
    assert np.allclose(model.log_odds_contributions(X).sum(axis=1), model.decision_function(X))
    with pytest.raises(ValueError, match="numeric"):
        SuiningPoints(rules={"grade": {"high": 3}}).fit(X, [1, 0, 0, 1])
    with pytest.raises(ValueError, match="finite real"):
        SuiningPoints(rules={"credit_history": {"critical": "a lot"}}).fit(X, [1, 0, 0, 1])


def test_list_datasets() -> None:
    found = {d["name"]: d for d in list_datasets()}
    # the bundled two, and the packaged tables of the datasets extra (issue 32)
    assert set(found) == {"citizens_10k", "german_credit", "romanian_vub", "australian"}
    assert (found["romanian_vub"]["rows"], found["australian"]["rows"]) == (18_917, 690)
    german = found["german_credit"]
    assert german["rows"] == 1000 and Path(german["path"]).name == "german_credit.csv"
    assert "CC BY 4.0" in german["licence"]
    assert Path(german["config"]) == CONFIG
    assert found["citizens_10k"]["rows"] == 10_000
    for entry in found.values():
        assert set(entry) >= {"name", "path", "rows", "description", "licence", "config"}
