"""The command line as a user meets it: exit codes, one-line errors, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scorelab.cli.commands import app
from tests.conftest import DEFAULT_CONFIG

runner = CliRunner()


def _write(tmp_path: Path, raw: dict, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return path


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_validate_ok() -> None:
    result = runner.invoke(app, ["validate", str(DEFAULT_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.stdout


def test_render_config_prints_a_config_that_validates(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render-config", str(DEFAULT_CONFIG)])
    assert result.exit_code == 0
    resolved = yaml.safe_load(result.stdout)
    assert resolved["population"]["causes"]["age_proxy"]["strength"] == 0.8
    again = _write(tmp_path, resolved)
    assert runner.invoke(app, ["validate", str(again)]).exit_code == 0


def test_render_config_schema_has_descriptions() -> None:
    result = runner.invoke(app, ["render-config", str(DEFAULT_CONFIG), "--schema"])
    assert result.exit_code == 0
    assert "Log-odds per standard deviation" in result.stdout


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ({"population": {"n_citizns": 5}}, ["unknown key 'population.n_citizns'", "n_citizens"]),
        ({"population": {"n_citizens": "ten"}}, ["population.n_citizens", "integer"]),
        ({"population": {"n_citizens": 0}}, ["population.n_citizens", "greater than 0"]),
        ({"population": {"n_citizens": -3}}, ["population.n_citizens", "greater than 0"]),
        ({"population": {"demographics": {"rural_share": 1.2}}},
         ["population.demographics.rural_share", "less than or equal to 1"]),
    ],
)
def test_generate_rejects_bad_configs_without_writing(tmp_path: Path, raw: dict,
                                                      fragments: list[str]) -> None:
    config = _write(tmp_path, raw)
    out = tmp_path / "out" / "citizens.parquet"
    result = runner.invoke(app, ["generate", str(config), "--out", str(out)])
    _assert_one_line_error(result, "study.yaml", *fragments)
    assert not (tmp_path / "out").exists()


def test_missing_config_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", str(tmp_path / "none.yaml"), "--out",
                                 str(tmp_path / "c.parquet")])
    _assert_one_line_error(result, "none.yaml", "not found")
    assert not (tmp_path / "c.parquet").exists()


def _small_config(tmp_path: Path) -> Path:
    return _write(tmp_path, {"seed": 3, "population": {"n_citizens": 500}})


def test_generate_writes_parquet_and_card_and_prints_path(tmp_path: Path) -> None:
    out = tmp_path / "citizens.parquet"
    result = runner.invoke(app, ["generate", str(_small_config(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(out)
    assert "oracle AUC" in result.stdout
    for name in ("citizens.parquet", "citizens.card.json", "citizens.card.md"):
        assert (tmp_path / name).is_file()


def test_existing_output_is_never_overwritten_without_force(tmp_path: Path) -> None:
    config = _small_config(tmp_path)
    out = tmp_path / "citizens.parquet"
    out.write_bytes(b"precious")
    result = runner.invoke(app, ["generate", str(config), "--out", str(out)])
    _assert_one_line_error(result, "already exists", "--force")
    assert out.read_bytes() == b"precious"
    assert not (tmp_path / "citizens.card.json").exists()
    forced = runner.invoke(app, ["generate", str(config), "--out", str(out), "--force"])
    assert forced.exit_code == 0
    assert out.read_bytes()[:4] == b"PAR1"


def test_existing_card_also_blocks(tmp_path: Path) -> None:
    (tmp_path / "citizens.card.md").write_text("mine")
    out = tmp_path / "citizens.parquet"
    result = runner.invoke(app, ["generate", str(_small_config(tmp_path)), "--out", str(out)])
    _assert_one_line_error(result, "citizens.card.md", "already exists")
    assert not out.exists()


def test_unwritable_output_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    out = blocker / "citizens.parquet"
    result = runner.invoke(app, ["generate", str(_small_config(tmp_path)), "--out", str(out)])
    _assert_one_line_error(result, "cannot create output folder")


def test_output_must_be_parquet(tmp_path: Path) -> None:
    out = tmp_path / "citizens.csv"
    result = runner.invoke(app, ["generate", str(_small_config(tmp_path)), "--out", str(out)])
    _assert_one_line_error(result, "must end in .parquet")
    assert not out.exists()


def test_overrides_are_validated(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", str(_small_config(tmp_path)), "--out",
                                 str(tmp_path / "c.parquet"), "--n-citizens", "0"])
    _assert_one_line_error(result, "population.n_citizens", "command-line overrides")


def test_generated_file_reads_back_with_schema(tmp_path: Path) -> None:
    from scorelab.data import read_population

    out = tmp_path / "citizens.parquet"
    runner.invoke(app, ["generate", str(_small_config(tmp_path)), "--out", str(out), "-q"])
    pop = read_population(out)
    assert pop.schema["credit_history_years"].source == "business"
    assert pop.schema["friends_avg_score"].role == "prohibited"
    assert pop.meta["seed"] == 3
    assert len(pop.frame) == 500


@pytest.mark.parametrize("config", sorted(p for p in DEFAULT_CONFIG.parent.glob("*.yaml")
                                         # a benchmark's config, checked by tests/benchmark
                                         if p.name != "benchmark.yaml"),
                         ids=lambda p: p.name)
def test_every_shipped_config_validates(config: Path) -> None:
    result = runner.invoke(app, ["validate", str(config)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok:")


def test_render_config_schema_needs_no_config() -> None:
    result = runner.invoke(app, ["render-config", "--schema"])
    assert result.exit_code == 0, result.output
    assert "missing_protected" in result.stdout
