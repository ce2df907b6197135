"""The table loader: a CSV/Parquet file becomes a Population, or one clear DataError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scorelab.config import TablePopulation
from scorelab.data.loaders import check_rows_for_folds, load_table_population
from scorelab.exceptions import DataError


def _table(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "applicant": np.arange(100, 100 + n),
        "age": rng.integers(19, 70, n),
        "gender": rng.choice(["f", "m"], n),
        "income": rng.normal(3.0, 1.0, n).round(2),
        "grade": rng.integers(1, 5, n),
        "housing": rng.choice(["rent", "own"], n),
        "outcome": np.where(np.arange(n) % 4 == 0, "bad", "good"),
    })


def _cfg(**kw: Any) -> TablePopulation:
    base: dict[str, Any] = {"source": "table", "path": "t.csv", "target": "outcome",
                            "default_value": "bad",
                            "protected": {"age": "continuous", "gender": "categorical"}}
    base.update(kw)
    return TablePopulation(**base)


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "t.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


def _error(tmp_path: Path, cfg: TablePopulation, *fragments: str) -> str:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DataError) as info:
        load_table_population(cfg, tmp_path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    for fragment in fragments:
        assert fragment in msg, msg
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    return msg


# ------------------------------------------------------------------------ happy path


def test_csv_loads_with_roles_types_and_target(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    pop = load_table_population(_cfg(sources={"income": "business"}), tmp_path)
    frame, schema = pop.frame, pop.schema
    assert schema.target == "outcome"
    assert frame["outcome"].tolist() == [1 if i % 4 == 0 else 0 for i in range(40)]
    assert schema.with_role("protected") == ["age", "gender"]
    assert schema.with_role("id") == ["citizen_id"]
    assert pop.features == ["applicant", "income", "grade", "housing"]
    assert frame["citizen_id"].tolist() == list(range(1, 41))  # row 1 = the first applicant
    assert frame["citizen_id"].dtype == np.int64
    assert frame["age"].dtype == float
    assert isinstance(frame["gender"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["housing"].dtype, pd.CategoricalDtype)
    # integer codes are not inferred as categories
    assert pd.api.types.is_integer_dtype(frame["grade"])
    assert schema["income"].source == "business"
    assert schema["housing"].source == "none" and schema["housing"].kind == "direct"
    assert pop.meta["n_defaults"] == 10 and pop.meta["no_default_value"] == "good"


def test_id_column_drop_categorical_and_parquet(tmp_path: Path) -> None:
    _write(tmp_path, _table(), "t.parquet")
    cfg = _cfg(path="t.parquet", id_column="applicant", drop=["income"],
               categorical=["grade", "housing"])
    pop = load_table_population(cfg, tmp_path)
    assert pop.frame["citizen_id"].tolist() == list(range(100, 140))
    assert "applicant" not in pop.frame and "income" not in pop.frame
    assert isinstance(pop.frame["grade"].dtype, pd.CategoricalDtype)
    assert pop.features == ["grade", "housing"]


def test_a_folder_of_parquet_parts_is_the_table_they_stack_into(tmp_path: Path) -> None:
    """Parts stack in name order, sub-folders included, markers such as _SUCCESS and
    hidden files skipped, a column of whole numbers in one part and decimals in another
    widened: the same population as the single file, row for row."""
    frame = _table(45)
    frame["income"] = frame["income"].astype(float)
    _write(tmp_path, frame, "t.parquet")
    folder = tmp_path / "parts"
    (folder / "year=2").mkdir(parents=True)
    frame.iloc[:15].to_parquet(folder / "a-0.parquet", index=False)
    whole = frame.iloc[15:30].copy()
    whole["income"] = 7  # whole numbers in this part only
    whole.to_parquet(folder / "a-1.pq", index=False)
    frame.iloc[30:].to_parquet(folder / "year=2" / "b.parquet", index=False)
    (folder / "_SUCCESS").write_text("")
    (folder / ".a-0.parquet.crc").write_bytes(b"crc")
    single = load_table_population(_cfg(path="t.parquet", id_column="applicant"), tmp_path)
    parts = load_table_population(_cfg(path="parts", id_column="applicant"), tmp_path)
    expected = single.frame.copy()
    expected.loc[15:29, "income"] = 7.0
    pd.testing.assert_frame_equal(parts.frame, expected)
    assert parts.features == single.features


def test_a_folder_table_streams_part_by_part(tmp_path: Path) -> None:
    from scorelab.data.loaders import table_batches
    frame = _table(40)
    (tmp_path / "parts").mkdir()
    for k in range(4):
        frame.iloc[10 * k:10 * (k + 1)].to_parquet(tmp_path / "parts" / f"p{k}.parquet")
    header, batches = table_batches(tmp_path / "parts", "table", size=4)
    assert header == list(frame.columns)
    got = list(batches(["applicant", "income"]))
    assert max(len(b) for b in got) <= 4 and len(got) == 12  # 3 batches of each part
    pd.testing.assert_frame_equal(pd.concat(got, ignore_index=True),
                                  frame[["applicant", "income"]])


def test_absolute_path_numeric_target_and_missing_values(tmp_path: Path) -> None:
    frame = _table()
    frame["outcome"] = np.where(frame["outcome"] == "bad", 2, 1)
    frame.loc[3, "income"] = np.nan
    frame.loc[5, "housing"] = np.nan
    path = _write(tmp_path, frame)
    for default in (2, "2"):
        pop = load_table_population(_cfg(path=str(path), default_value=default), None)
        assert pop.frame["outcome"].sum() == 10
    assert np.isnan(pop.frame.loc[3, "income"])
    assert pd.isna(pop.frame.loc[5, "housing"])


def test_enough_rows_for_folds(tmp_path: Path) -> None:
    _write(tmp_path, _table(40))
    pop = load_table_population(_cfg(), tmp_path, folds=5)
    check_rows_for_folds(pop, 10)
    with pytest.raises(DataError, match=r"evaluation\.folds = 11") as info:
        check_rows_for_folds(pop, 11)
    assert "t.csv" in str(info.value) and "10 defaults" in str(info.value)
    with pytest.raises(DataError, match="evaluation.folds"):
        load_table_population(_cfg(), tmp_path, folds=20)


# ------------------------------------------------------------------------ errors


def test_missing_file(tmp_path: Path) -> None:
    _error(tmp_path, _cfg(path="nope.csv"), "nope.csv", "not found")


def test_unsupported_extension(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text("x")
    _error(tmp_path, _cfg(path="t.json"), "t.json", ".json", ".csv", ".tsv", ".parquet",
           ".xlsx")


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("")
    _error(tmp_path, _cfg(), "t.csv", "empty")
    (tmp_path / "t.csv").write_text("age,gender,outcome\n")
    _error(tmp_path, _cfg(), "t.csv", "no rows")


def test_duplicate_column_names(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("age,gender,age,outcome\n30,f,31,bad\n40,m,41,good\n")
    _error(tmp_path, _cfg(), "t.csv", "duplicate column", "age")


def test_missing_target_column(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    _error(tmp_path, _cfg(target="default_flag"), "population.target", "default_flag",
           "t.csv", "outcome")


def test_missing_protected_column(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    _error(tmp_path, _cfg(protected={"age": "continuous", "sex": "categorical"}),
           "population.protected", "sex", "t.csv")


def test_target_with_one_class(tmp_path: Path) -> None:
    frame = _table()
    frame["outcome"] = "good"
    _write(tmp_path, frame)
    _error(tmp_path, _cfg(), "outcome", "one class")


def test_default_value_absent(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    _error(tmp_path, _cfg(default_value="Bad"), "default_value", "'Bad'", "outcome",
           "bad, good")


def test_target_with_unknown_or_missing_values(tmp_path: Path) -> None:
    frame = _table()
    frame.loc[7, "outcome"] = "unknown"
    _write(tmp_path, frame)
    _error(tmp_path, _cfg(), "outcome", "3 distinct values", "unknown", "exactly two")
    frame.loc[7, "outcome"] = np.nan
    _write(tmp_path, frame)
    _error(tmp_path, _cfg(), "outcome", "missing", "row 8 (1 of 40)")  # rows count from 1, like the ids


def test_non_numeric_age(tmp_path: Path) -> None:
    frame = _table()
    frame["age"] = frame["age"].astype(str)
    frame.loc[2, "age"] = "thirty"
    _write(tmp_path, frame)
    _error(tmp_path, _cfg(), "age", "numeric", "thirty")
    _error(tmp_path, _cfg(protected={"age": "categorical"}), "age", "continuous")


@pytest.mark.parametrize("key, value, where", [
    ("drop", ["colour"], "population.drop"),
    ("categorical", ["colour"], "population.categorical"),
    ("sources", {"colour": "webspace"}, "population.sources"),
    ("id_column", "colour", "population.id_column"),
])
def test_listed_columns_must_exist(tmp_path: Path, key: str, value: Any, where: str) -> None:
    _write(tmp_path, _table())
    _error(tmp_path, _cfg(**{key: value}), where, "colour", "t.csv")


def test_conflicting_roles(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    _error(tmp_path, _cfg(drop=["outcome"]), "outcome", "population.drop")
    _error(tmp_path, _cfg(drop=["gender"]), "gender", "population.drop")


def test_text_column_not_listed_as_categorical(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    _error(tmp_path, _cfg(categorical=["grade"]), "housing", "population.categorical")


def test_bad_id_column(tmp_path: Path) -> None:
    frame = _table()
    frame.loc[1, "applicant"] = 100
    _write(tmp_path, frame)
    _error(tmp_path, _cfg(id_column="applicant"), "applicant", "duplicate")
    _error(tmp_path, _cfg(id_column="housing"), "housing", "whole numbers")
    frame = _table().rename(columns={"applicant": "citizen_id"})
    _write(tmp_path, frame)
    _error(tmp_path, _cfg(), "citizen_id", "id_column")


def test_unreadable_parquet(tmp_path: Path) -> None:
    (tmp_path / "t.parquet").write_bytes(b"not parquet at all")
    _error(tmp_path, _cfg(path="t.parquet"), "t.parquet", "Parquet")


def test_any_column_can_be_the_age_attribute(tmp_path: Path) -> None:
    frame = _table().rename(columns={"age": "AGE", "gender": "Sex"})
    frame["Sex"] = frame["Sex"].astype(object)
    frame.loc[[4, 9], "Sex"] = None
    _write(tmp_path, frame)
    pop = load_table_population(_cfg(protected={"AGE": "age", "Sex": "categorical"}),
                                tmp_path)
    assert pop.frame["AGE"].dtype == float  # kept under the table's own name
    assert pop.meta["age_column"] == "AGE"
    assert pop.meta["protected"] == {"AGE": "age", "Sex": "categorical"}
    assert pop.meta["missing_protected"] == {"Sex": 2}
    assert pop.schema.with_role("protected") == ["AGE", "Sex"]
    assert "protected (age)" in pop.schema["AGE"].description


def test_a_column_named_exactly_age_and_continuous_is_still_the_age(tmp_path: Path) -> None:
    _write(tmp_path, _table())
    assert load_table_population(_cfg(), tmp_path).meta["age_column"] == "age"


@pytest.mark.parametrize("name", ["AGE", "Age"])
def test_an_age_like_column_must_be_declared_age(tmp_path: Path, name: str) -> None:
    _write(tmp_path, _table().rename(columns={"age": name}))
    _error(tmp_path, _cfg(protected={name: "continuous"}), f"'{name}' is declared continuous",
           f"'{name}: age'")


def test_unprotected_age_column_is_a_plain_feature(tmp_path: Path) -> None:
    frame = _table().rename(columns={"age": "AGE"})
    _write(tmp_path, frame)
    pop = load_table_population(_cfg(protected={"gender": "categorical"}), tmp_path)
    assert pop.meta["age_column"] is None
    assert "AGE" in pop.features
