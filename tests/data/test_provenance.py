"""Provenance: what the data card says of where the data came from, and nothing more."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scorelab.config import SyntheticPopulation
from scorelab.data.provenance import companion_card, synthetic_provenance, table_provenance
from scorelab.data.synthetic import generate_population
from tests.conftest import ROOT
from tests.data.test_loaders import _cfg, _table, _write


def _population(tmp_path: Path, name: str = "t.csv", **kw) -> tuple[Path, object]:
    from scorelab.data.loaders import load_table_population

    frame = _table().assign(applied=pd.date_range("2020-01-05", periods=40, freq="7D")
                            .strftime("%Y-%m-%d"))
    path = _write(tmp_path, frame, name)
    return path, load_table_population(_cfg(path=path, **kw))


def test_a_tables_companion_card_gives_source_licence_and_derived_columns(tmp_path) -> None:
    path, pop = _population(tmp_path, drop=["applied"])
    (tmp_path / "t.card.json").write_text(json.dumps({
        "source": {"title": "Bank X files", "creator": "Bank X", "year": 2019,
                   "collected": "2015-2018", "licence": "internal use"},
        "columns": [{"name": "income", "description": "Monthly income, derived from the "
                                                      "payroll file."},
                    {"name": "debt", "description": "Debt owed."}]}))
    prov = table_provenance(pop, path)
    assert prov["title"] == "Bank X files" and prov["licence"] == "internal use"
    assert prov["source"] == "Bank X, 2019" and prov["published"] == "2019"
    assert prov["collected"] == "2015-2018"
    assert prov["derived"] == {"income": "Monthly income, derived from the payroll file."}
    assert prov["dropped"] == ["applied"] and prov["companion_card"] == "t.card.json"
    assert prov["file"] == "t.csv" and prov["rows"] == 40


def test_without_a_companion_card_nothing_is_guessed(tmp_path) -> None:
    path, pop = _population(tmp_path, date_column="applied")
    prov = table_provenance(pop, path, "applied")
    assert prov["source"] is prov["licence"] is prov["collected"] is prov["published"] is None
    assert prov["companion_card"] is None and prov["derived"] == {}
    assert prov["dates"] == {"column": "applied", "first": "2020-01-05",
                             "last": "2020-10-04"}
    assert prov["companion_problem"] is None
    # a card that is there but unusable is named, never fatal and never read as "none"
    (tmp_path / "t.card.json").write_text("[1, 2]")
    assert companion_card(path) == (None, "t.card.json beside the table is not a JSON object")
    (tmp_path / "t.card.json").write_text("{broken")
    card, problem = companion_card(path)
    assert card is None and "not readable JSON" in problem
    assert "not readable JSON" in table_provenance(pop, path)["companion_problem"]


def test_german_credit_names_its_source_licence_and_the_derived_sex() -> None:
    from scorelab.config import load_config
    from scorelab.study.population import population_for

    config = load_config(ROOT / "configs" / "german_credit.yaml")
    _, card = population_for(config)
    prov = card["provenance"]
    assert "CC BY 4.0" in prov["licence"] and "10.24432/C5NC77" in prov["source"]
    assert prov["published"] == "1994" and prov["collected"] is None  # not stated
    assert prov["dropped"] == ["personal_status_sex"]
    assert "personal_status_sex" in prov["derived"]["sex"]


def test_a_synthetic_population_says_it_is_generated() -> None:
    pop = generate_population(SyntheticPopulation(n_citizens=300), seed=5)
    prov = synthetic_provenance(pop, 5)
    assert prov["kind"] == "synthetic" and prov["rows"] == 300
    assert "seed 5" in prov["collected"] and "no real person" in prov["source"]


def test_a_generated_populations_card_gives_its_own_provenance(tmp_path) -> None:
    path, pop = _population(tmp_path)
    (tmp_path / "t.card.json").write_text(json.dumps({"provenance": synthetic_provenance(
        generate_population(SyntheticPopulation(n_citizens=50), seed=3), 3)}))
    prov = table_provenance(pop, path)
    assert "no real person" in prov["source"] and prov["licence"].startswith("MIT")
    assert prov["collected"] == "generated with seed 3"
