"""The formats lenders keep (issue 31): text with any common delimiter (sniffed or
given), compressed text, Parquet files and folders, Excel workbooks; rows of the wrong
width refused in one line naming them, or dropped and counted in the data card."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from scorelab.config import config_from_dict
from scorelab.data.tables import read_table_file, table_batches
from scorelab.exceptions import DataError
from scorelab.study.population import population_for

GERMAN = Path(__file__).resolve().parents[2] / "data" / "real" / "german_credit.csv"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    return pd.read_csv(GERMAN)


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory, german: pd.DataFrame) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    paths = {"tsv": folder / "g.tsv", "semicolon": folder / "g_semicolon.csv",
             "bar": folder / "g.txt", "gzip": folder / "g.csv.gz", "bz2": folder / "g.tsv.bz2",
             "xz": folder / "g.csv.xz", "zip": folder / "g.csv.zip",
             "parquet": folder / "g.parquet", "parts": folder / "parts",
             "excel": folder / "g.xlsx"}
    german.to_csv(paths["tsv"], sep="\t", index=False)
    german.to_csv(paths["semicolon"], sep=";", index=False)
    german.to_csv(paths["bar"], sep="|", index=False)
    german.to_csv(paths["gzip"], index=False)
    german.to_csv(paths["bz2"], sep="\t", index=False)
    german.to_csv(paths["xz"], sep=";", index=False)
    german.to_csv(paths["zip"], index=False)
    german.to_parquet(paths["parquet"], index=False)
    paths["parts"].mkdir()
    for i, start in enumerate(range(0, len(german), 400)):
        german.iloc[start:start + 400].to_parquet(paths["parts"] / f"part-{i}.parquet",
                                                  index=False)
    (paths["parts"] / "_SUCCESS").write_text("")
    with pd.ExcelWriter(paths["excel"], engine="openpyxl") as book:
        german.to_excel(book, sheet_name="applicants", index=False)
        german.head(5).to_excel(book, sheet_name="notes", index=False)
    return paths


DELIMITERS = {"tsv": "\t", "semicolon": ";", "bar": "|", "gzip": ",", "bz2": "\t",
              "xz": ";", "zip": ","}


@pytest.mark.parametrize("name", ["tsv", "semicolon", "bar", "gzip", "bz2", "xz", "zip",
                                  "parquet", "parts", "excel"])
def test_every_format_reads_the_same_table(copies: dict[str, Path], german: pd.DataFrame,
                                           name: str) -> None:
    table = read_table_file(copies[name], "table")
    assert table.delimiter == DELIMITERS.get(name)
    pd.testing.assert_frame_equal(table.frame, german, check_dtype=False)


def test_the_first_sheet_and_a_given_delimiter(copies: dict[str, Path],
                                               german: pd.DataFrame) -> None:
    first = read_table_file(copies["excel"], "table")
    assert first.sheet == "applicants" and len(first.frame) == 1000
    named = read_table_file(copies["excel"], "table", sheet="notes")
    assert named.sheet == "notes" and len(named.frame) == 5
    given = read_table_file(copies["semicolon"], "table", delimiter=";")
    pd.testing.assert_frame_equal(given.frame, german, check_dtype=False)
    wrong = read_table_file(copies["semicolon"], "table", delimiter=",")
    assert wrong.frame.shape[1] == 1  # what the hint of the loader is for


def test_quoted_delimiters_and_line_breaks_are_not_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('id;note;bad\n1;"a; b";0\n2;"two\nlines";1\n3;plain;0\n')
    table = read_table_file(path, "table")
    assert table.delimiter == ";" and table.frame["note"].tolist() == ["a; b", "two\nlines",
                                                                       "plain"]


def _ragged(tmp_path: Path) -> Path:
    path = tmp_path / "ragged.csv"
    rows = ["id,age,income,bad"] + [f"{i},{30 + i},{1000 + i},{i % 2}" for i in range(1, 9)]
    rows[3] = "3,33,1003,1,surplus"  # a stray delimiter: one field too many
    rows[6] = "6,1006,0"             # a field missing: every later value shifted
    path.write_text("\n".join(rows) + "\n")
    return path


def test_rows_of_the_wrong_width_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table_file(_ragged(tmp_path), "population.path")
    message = str(info.value)
    assert "\n" not in message
    assert "rows 3, 6 (2 of 8) have a number of fields other than the header's 4 (row 3 " \
           "has 5" in message
    assert "population.bad_rows: drop" in message


def test_rows_of_the_wrong_width_dropped_are_counted_in_the_data_card(tmp_path: Path) -> None:
    path = _ragged(tmp_path)
    table = read_table_file(path, "table", bad_rows="drop")
    assert table.dropped_rows == (3, 6) and table.frame["id"].tolist() == [1, 2, 4, 5, 7, 8]
    config = config_from_dict({
        "population": {"source": "table", "path": str(path), "target": "bad",
                       "default_value": 1, "id_column": "id", "bad_rows": "drop"},
        "models": [{"family": "logit", "name": "scorecard"}],
        "evaluation": {"folds": 2}})
    _, card = population_for(config)
    assert card["meta"]["dropped_rows"]["count"] == 2
    assert card["meta"]["dropped_rows"]["rows"] == [3, 6]
    assert [f["check"] for f in card["quality"]][0] == "dropped_rows"
    assert card["quality"][0]["message"].startswith("2 row(s) of the wrong width dropped "
                                                    "(rows 3, 6 of the file")


def test_excel_without_its_extra_says_how_to_install_it(copies: dict[str, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if the extra were missing
    with pytest.raises(DataError, match=r"reading an Excel workbook needs the excel extra "
                                        r"\(pip install 'scorelab\[excel\]'\)"):
        read_table_file(copies["excel"], "population.path")


@pytest.mark.parametrize("name", ["tsv", "excel"])
def test_batches_of_a_tsv_and_a_workbook(copies: dict[str, Path], german: pd.DataFrame,
                                         name: str) -> None:
    header, batches = table_batches(copies[name], "table", size=300)
    assert header == list(german.columns)
    parts = list(batches(["age", "credit_risk"]))
    assert [len(p) for p in parts] == [300, 300, 300, 100]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True),
                                  german[["age", "credit_risk"]], check_dtype=False)
