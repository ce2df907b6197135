"""Damaged run directories (tests/bad_inputs/runs/recipes.yaml): every command that reads
a run (`report`, `explain --citizen`, `compare`, `score`) refuses a damaged one with one
line naming the file (and the field or column), exit 1, no traceback, nothing written,
and the pristine run untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.study.runner import run
from tests.bad_inputs.harness import digest, error_line
from tests.conftest import make_config

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

RECIPES_FILE = Path(__file__).parent / "bad_inputs" / "runs" / "recipes.yaml"
RECIPES: dict[str, dict[str, Any]] = yaml.safe_load(RECIPES_FILE.read_text())
COMMANDS = ("report", "explain", "compare", "score", "stability")
runner = CliRunner()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny real run (two families, models saved), made once per session; the
    contract run of tests/runs is bigger than these tests need."""
    cfg = make_config({"name": "tiny", "models": [
        {"family": "expert", "name": "suining", "kind": "suining"},
        {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
         "params": {"n_estimators": 10}}],
        "evaluation": {"folds": 2, "bootstrap": 0, "n_jobs": 1},
        "explain": {"sample_size": 20, "agnostic_sample_size": 5, "background_size": 5},
        "fairness": {"bootstrap": 0, "attributes": ["age", "sex"], "intersections": []},
        "report": {"formats": ["json"]}}, n=300, seed=3)
    result = run(cfg, runs_dir=tmp_path_factory.mktemp("pristine"))
    assert result.run_dir is not None
    return result.run_dir


@pytest.fixture(scope="session")
def applicants(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid table of new applicants: ten citizens of the run itself."""
    path = tmp_path_factory.mktemp("applicants") / "applicants.csv"
    pd.read_parquet(tiny_run / "population.parquet").head(10).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def outsider(tiny_run: Path) -> int:
    """A citizen outside the audit sample: explaining them loads a saved fold model."""
    audited = set(pd.read_parquet(tiny_run / "explanations.parquet")["citizen_id"])
    ids = pd.read_parquet(tiny_run / "predictions.parquet")["citizen_id"]
    return int(next(i for i in ids if i not in audited))


# ------------------------------------------------------------------------ the damage


def _json_path(data: Any, key: str) -> tuple[Any, str | int]:
    parts = [int(p) if p.isdigit() else p for p in str(key).split(".")]
    for part in parts[:-1]:
        data = data[part]
    return data, parts[-1]


def _edit_json(path: Path, recipe: dict[str, Any]) -> None:
    data = json.loads(path.read_text())
    parent, last = _json_path(data, recipe["key"])
    if recipe["damage"] == "json_set":
        parent[last] = recipe["value"]
    else:
        del parent[last]
    path.write_text(json.dumps(data))


def _edit_parquet(path: Path, recipe: dict[str, Any]) -> None:
    table = pq.read_table(path)
    frame = table.to_pandas()
    rows = (frame["model"] == recipe["where"]) if "where" in recipe else slice(None)
    damage, key = recipe["damage"], recipe.get("key")
    if damage == "parquet_drop_rows":
        table = pa.Table.from_pandas(frame[~rows], preserve_index=False)
    elif damage == "parquet_drop_column":
        table = table.drop_columns([key])
    elif damage == "parquet_cast":
        index = table.schema.get_field_index(key)
        table = table.set_column(index, key, table[key].cast(recipe["value"]))
    else:  # parquet_set
        if isinstance(recipe["value"], str):
            frame[key] = frame[key].astype(object)
        frame.loc[rows, key] = recipe["value"]
        table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path)


def _edit_csv(path: Path, recipe: dict[str, Any]) -> None:
    frame = pd.read_csv(path)
    if recipe["damage"] == "csv_drop_column":
        frame = frame.drop(columns=[recipe["key"]])
    else:
        frame[recipe["key"]] = frame[recipe["key"]].astype(object)
        frame.loc[frame.index[-1], recipe["key"]] = recipe["value"]
    frame.to_csv(path, index=False)


def _damage_file(path: Path, recipe: dict[str, Any]) -> None:
    damage = recipe["damage"]
    if damage == "delete":
        path.unlink()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garble":
        data = bytearray(path.read_bytes())
        middle = len(data) // 3
        data[middle:middle + 64] = bytes(range(64))[::-1] * 1
        data[:4] = b"\x00\xff\x13\x37"
        path.write_bytes(bytes(data))
    elif damage == "text":
        path.write_text(recipe["value"])
    elif damage.startswith("json_"):
        _edit_json(path, recipe)
    elif damage.startswith("parquet_"):
        _edit_parquet(path, recipe)
    else:
        _edit_csv(path, recipe)


def _damaged_copy(pristine: Path, recipe: dict[str, Any], into: Path) -> Path:
    copy = Path(shutil.copytree(pristine, into / pristine.name))
    if recipe["file"] == ".":
        if recipe["damage"] == "rename":
            return copy.rename(copy.with_name(recipe["value"] + copy.name))
        shutil.rmtree(copy)
        copy.mkdir()
        return copy
    files = recipe["file"] if isinstance(recipe["file"], list) else [recipe["file"]]
    for name in files:
        _damage_file(copy / name, recipe)
    return copy


# ------------------------------------------------------------------------ the commands


def _argv(command: str, damaged: Path, pristine: Path, applicants: Path, outsider: int,
          out: Path) -> list[str]:
    return {"report": ["report", str(damaged)],
            "explain": ["explain", str(damaged), "--citizen", str(outsider),
                        "--model", "lightgbm"],
            "compare": ["compare", str(damaged), str(pristine)],
            "score": ["score", str(damaged), str(applicants), "--out", str(out),
                      "--model", "lightgbm"],
            "stability": ["stability", str(damaged), str(applicants),
                          "--model", "lightgbm"]}[command]


def test_every_recipe_is_complete() -> None:
    assert len(RECIPES) >= 45
    for name, recipe in RECIPES.items():
        assert {"file", "damage", "expect"} <= set(recipe), name
        assert set(recipe.get("commands", COMMANDS)) <= set(COMMANDS), name


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_a_damaged_run_is_refused_in_one_line(name: str, tiny_run: Path, applicants: Path,
                                              outsider: int, tmp_path: Path) -> None:
    recipe = RECIPES[name]
    before = digest(tiny_run)
    damaged = _damaged_copy(tiny_run, recipe, tmp_path / "damaged")
    listing = digest(damaged)
    (tmp_path / "out").mkdir()
    for command in recipe.get("commands", COMMANDS):
        out = tmp_path / "out" / f"{command}.csv"
        result = runner.invoke(app, _argv(command, damaged, tiny_run, applicants, outsider,
                                          out))
        error_line(result, recipe["expect"])
        assert not any(out.parent.iterdir()), command  # no output file
    assert digest(damaged) == listing  # nothing written into the damaged run
    assert digest(tiny_run) == before  # the pristine run is untouched


@pytest.mark.parametrize("citizen", [2**64, 2**70, -(2**63) - 1, 10**30])
def test_explain_refuses_an_id_beyond_64_bits_in_one_line(citizen: int, tiny_run: Path
                                                          ) -> None:
    result = runner.invoke(app, ["explain", str(tiny_run), "--citizen", str(citizen)])
    error_line(result, rf"citizen {citizen} is not in this run \(citizen ids \d+-\d+\)")
