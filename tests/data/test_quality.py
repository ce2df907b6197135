"""Data-quality findings (issue 31): each planted oddity gives exactly its own line, and
a clean table gives none."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from scorelab.config import TablePopulation
from scorelab.data.loaders import load_table_population
from scorelab.data.quality import CHECKS, name_tokens, table_findings

N = 600


def clean_table(n: int = N, seed: int = 1) -> pd.DataFrame:
    """Applicants with ordinary columns and a target weakly tied to them."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    return pd.DataFrame({
        "age": rng.integers(20, 71, n),
        "income": np.round(np.exp(rng.normal(7.5 - 0.2 * risk, 0.5)), 2),
        "loan_amount": np.round(np.exp(rng.normal(8, 0.6, n)), 0),
        "months": rng.integers(6, 61, n),
        "purpose": rng.choice(["car", "home", "education", "cash"], n),
        "has_phone": rng.integers(0, 2, n),
        "default": (rng.random(n) < 1 / (1 + np.exp(1.5 - 0.8 * risk))).astype(int)})


def findings(frame: pd.DataFrame, **population: object) -> list:
    cfg = TablePopulation(source="table", target="default", default_value=1,
                          protected={"age": "age"}, **population)
    return table_findings(load_table_population(cfg, frame=frame))


def only(frame: pd.DataFrame, check: str, **population: object) -> str:
    """The one finding of ``frame``: it must be of ``check``; its line."""
    found = findings(frame, **population)
    assert [f.check for f in found] == [check], [f.message for f in found]
    assert "\n" not in found[0].message
    return found[0].message


def test_a_clean_table_has_no_finding() -> None:
    assert findings(clean_table()) == []


def test_an_applicant_aged_zero() -> None:
    frame = clean_table()
    frame.loc[[2, 9], "age"] = 0
    assert only(frame, "implausible") == (
        "column 'age': rows 3, 10 (2 of 600) hold ages outside 18-100 (e.g. 0), which no "
        "applicant has: check them (an age of 0 often stands for unknown; leave unknown "
        "cells empty)")


def test_a_negative_amount() -> None:
    frame = clean_table()
    frame.loc[4, "loan_amount"] = -500
    assert only(frame, "implausible") == (
        "column 'loan_amount': row 5 (1 of 600) holds negative values (e.g. -500) in a "
        "column named as an amount: check them (a sign error, or a code for unknown?)")


def test_an_identifier_column() -> None:
    frame = clean_table().assign(
        customer_no=np.random.default_rng(2).permutation(N) + 10_000)
    assert only(frame, "identifier") == (
        "column 'customer_no': identifier-like (a different value in every row): it names "
        "rows rather than describing applicants, so no model can learn from it; list it in "
        "population.drop (or make it population.id_column)")


def test_a_leaked_copy_of_the_target() -> None:
    frame = clean_table()
    frame["status_after"] = frame["default"].map({1: "written off", 0: "closed"})
    assert only(frame, "leakage") == (
        "column 'status_after': alone it predicts the target with AUC 1.000 (above 0.95), "
        "a leakage suspect: was it recorded after the outcome? Drop it (population.drop) "
        "unless it is known when the applicant applies")


def test_a_constant_and_a_near_constant_column() -> None:
    assert only(clean_table().assign(country="DE"), "constant") == (
        "column 'country': constant (every known value is 'DE'), so it cannot inform any "
        "model: list it in population.drop")
    frame = clean_table().assign(branch=0)
    frame.loc[7, "branch"] = 1
    assert only(frame, "constant").startswith(
        "column 'branch': near-constant (99.8% of its known values are 0; 1 other(s))")


def test_duplicated_rows() -> None:
    frame = clean_table()
    frame = pd.concat([frame, frame.iloc[[4, 11]]], ignore_index=True)
    assert only(frame, "duplicates") == (
        "2 duplicated row(s): rows 601, 602 (2 of 602) repeat an earlier row in every column "
        "(the id aside); a copy in both a training and a test fold flatters every model: "
        "remove copies of one application")


def test_an_extreme_tail() -> None:
    frame = clean_table()
    rows = np.arange(0, N, 100)  # 1% of the rows, times 100,000
    frame.loc[rows, "income"] *= 1e5
    message = only(frame, "tail")
    assert re.fullmatch(
        r"column 'income': an extreme tail: rows 1, 101, 201, 301, 401, \.\.\. \(6 of 600\) "
        r"exceed [\d,]+, up to [\d.]+e\+\d\d, while 75% of its values are at most [\d,]+: "
        r"check "
        r"them \(a unit error, or a code such as 98 for unknown\?\); the networks see these "
        r"inputs through quantiles", message), message


def test_an_extreme_default_rate() -> None:
    frame = clean_table()
    frame["default"] = 0
    frame.loc[[3, 50, 200], "default"] = 1
    assert only(frame, "prevalence") == (
        "target 'default': defaults are rare (3 of 600, 0.50%): every fold's estimate rests "
        "on few defaults, so intervals are wide; more rows or fewer folds help")


def test_findings_keep_the_order_of_the_checks() -> None:
    frame = clean_table().assign(country="DE")
    frame.loc[0, "age"] = 0
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)
    found = [f.check for f in findings(frame)]
    assert found == ["implausible", "constant", "duplicates"]
    assert found == sorted(found, key=CHECKS.index)


@pytest.mark.parametrize(("name", "tokens"), [
    ("MonthlyIncome", ["monthly", "income"]), ("applicant_id", ["applicant", "id"]),
    ("SeriousDlqin2yrs", ["serious", "dlqin", "2", "yrs"]), ("AGE", ["age"]),
    ("mortgage", ["mortgage"])])
def test_column_names_are_read_as_words(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens
