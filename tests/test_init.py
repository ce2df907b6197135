"""`scorelab init TABLE`: a commented config for a table, in any format, that validates;
bad input gets one line and nothing is written (corpus: tests/bad_inputs/init)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from scorelab.cli.commands import app
from scorelab.config import load_config
from tests.bad_inputs.harness import digest, error_line

ROOT = Path(__file__).resolve().parents[1]
GERMAN = ROOT / "data" / "real" / "german_credit.csv"
CORPUS = Path(__file__).parent / "bad_inputs" / "init"
CASES = sorted(yaml.safe_load((CORPUS / "expected.yaml").read_text()).items())
runner = CliRunner()


@pytest.fixture(scope="module")
def german_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """German credit as a lender might keep it: CSV, TSV, semicolon CSV, an Excel book
    whose first sheet is the table."""
    folder = tmp_path_factory.mktemp("german")
    frame = pd.read_csv(GERMAN)
    copies = {"csv": GERMAN, "tsv": folder / "german.tsv",
              "semicolon": folder / "german_semicolon.csv", "excel": folder / "german.xlsx"}
    frame.to_csv(copies["tsv"], sep="\t", index=False)
    frame.to_csv(copies["semicolon"], sep=";", index=False)
    with pd.ExcelWriter(copies["excel"], engine="openpyxl") as book:
        frame.to_excel(book, sheet_name="applicants", index=False)
    return copies


@pytest.fixture(scope="module")
def german_configs(german_copies: dict[str, Path],
                   tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("configs")
    out = {}
    for name, table in german_copies.items():
        config = folder / f"{name}.yaml"
        result = runner.invoke(app, ["init", str(table), "--out", str(config)])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().splitlines()[-1] == str(config)  # the path, last
        out[name] = config
    return out


def test_init_on_every_format_validates_and_agrees(german_configs: dict[str, Path]) -> None:
    roles = {}
    for name, config in german_configs.items():
        result = runner.invoke(app, ["validate", str(config)])
        assert result.exit_code == 0, result.output
        assert "1,000 rows" in result.stdout
        population = load_config(config).population
        roles[name] = (population.target, population.default_value, population.id_column,
                       dict(population.protected), sorted(population.categorical or []))
    assert roles["csv"] == ("credit_risk", "bad", "applicant_id",
                            {"age": "age", "personal_status_sex": "categorical",
                             "sex": "categorical", "foreign_worker": "categorical"},
                            roles["csv"][4])
    assert len(roles["csv"][4]) == 11  # the text columns
    assert all(r == roles["csv"] for r in roles.values()), roles
    text = german_configs["semicolon"].read_text()
    assert 'delimiter: ";"' in text and "sniffed" in text
    assert "sheet: applicants" in german_configs["excel"].read_text()


def test_every_choice_says_why(german_configs: dict[str, Path]) -> None:
    lines = german_configs["csv"].read_text().splitlines()
    population = lines[lines.index("population:") + 1:lines.index("models:")]
    keys = [i for i, line in enumerate(population)
            if re.match(r"^  [a-z_]+:", line) and not line.startswith("  source")]
    for i in keys:  # the reason is beside the key or on the comment line above it
        assert "#" in population[i] or population[i - 1].lstrip().startswith("#"), \
            population[i]
    assert sum("# CHECK:" in line for line in population) == 4  # each protected attribute
    sized = [line for line in lines if "num_leaves: 4" in line or "alpha: 3.0" in line]
    assert sized and "sized to 1,000 rows" in "\n".join(lines)
    assert re.search(r"^  path: \"?/", "\n".join(lines), re.M)  # absolute


def test_a_copied_config_still_finds_its_table(german_configs: dict[str, Path],
                                               tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "study.yaml"
    moved.parent.mkdir()
    shutil.copy(german_configs["tsv"], moved)
    result = runner.invoke(app, ["validate", str(moved)])
    assert result.exit_code == 0, result.output


def test_a_bundled_config_copied_elsewhere_finds_its_dataset(tmp_path: Path) -> None:
    copied = tmp_path / "mine" / "german_credit.yaml"
    copied.parent.mkdir()
    shutil.copy(ROOT / "configs" / "german_credit.yaml", copied)
    result = runner.invoke(app, ["validate", str(copied)])
    assert result.exit_code == 0, result.output
    assert "1,000 rows of german_credit.csv" in result.stdout


def test_init_refuses_to_overwrite_without_force(german_configs: dict[str, Path]) -> None:
    config = german_configs["csv"]
    before = config.read_bytes()
    result = runner.invoke(app, ["init", str(GERMAN), "--out", str(config)])
    error_line(result, r"--out '.*csv.yaml' already exists; use --force to overwrite it")
    assert config.read_bytes() == before
    result = runner.invoke(app, ["init", str(GERMAN), "--out", str(config), "--force"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("case", "spec"), CASES, ids=[c for c, _ in CASES])
def test_bad_input_for_init_is_one_line_and_writes_nothing(tmp_path: Path, case: str,
                                                            spec: dict) -> None:
    out = tmp_path / "new" / "study.yaml"
    args = [str(CORPUS / spec["args"][0]), *spec["args"][1:]]
    corpus, written = digest(CORPUS), digest(tmp_path)
    result = runner.invoke(app, ["init", *args, "--out", str(out)])
    error_line(result, spec["error"])
    assert not out.parent.exists()
    assert digest(tmp_path) == written and digest(CORPUS) == corpus


def test_the_corpus_covers_what_issue_31_names() -> None:
    names = {c for c, _ in CASES}
    assert {"no_binary", "empty", "sheet_missing", "unreadable_workbook"} <= names


def test_a_table_with_rows_of_the_wrong_width_is_read_without_them(tmp_path: Path) -> None:
    out = tmp_path / "ragged.yaml"
    result = runner.invoke(app, ["init", str(CORPUS / "ragged.csv"), "--out", str(out),
                                 "--target", "outcome", "--drop-bad-rows"])
    assert result.exit_code == 0, result.output
    assert "bad_rows: drop" in out.read_text()
    assert "1 row(s) of the wrong width dropped (rows 6 of the file" in result.stderr
    validated = runner.invoke(app, ["validate", str(out)])
    assert validated.exit_code == 0, validated.output


def _small_table(n: int = 240, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    frame = pd.DataFrame({
        "customer_id": rng.permutation(n) + 5000,
        "age": rng.integers(19, 80, n),
        "gender": rng.choice(["f", "m"], n),
        "income": np.round(np.exp(rng.normal(8 - 0.3 * risk, 0.5)), 2),
        "months_employed": rng.integers(0, 240, n),
        "purpose": rng.choice(["car", "home", "cash"], n),
        "bad_loan": (rng.random(n) < 1 / (1 + np.exp(1.2 - 1.4 * risk))).astype(int)})
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    return frame


@pytest.mark.heavy
def test_run_on_an_init_config_works(tmp_path: Path) -> None:
    table = tmp_path / "loans.csv"
    _small_table().to_csv(table, index=False)
    config = tmp_path / "loans.yaml"
    made = runner.invoke(app, ["init", str(table), "--out", str(config)])
    assert made.exit_code == 0, made.output
    population = load_config(config).population
    assert (population.target, population.default_value, population.id_column) == (
        "bad_loan", 1, "customer_id")
    assert population.protected == {"age": "age", "gender": "categorical"}
    # the proposed config as written, run on fewer folds and replicates (the two
    # cross-fitted hybrids on 2 inner folds): the same models, the same stages
    raw = yaml.safe_load(config.read_text())
    raw["evaluation"].update(folds=3, bootstrap=20)
    raw.setdefault("fairness", {})["bootstrap"] = 20
    for spec in raw["models"]:
        if spec["kind"] in ("yim_mitchell", "stacking"):
            spec.setdefault("params", {})["inner_folds"] = 2
    smaller = tmp_path / "loans-smaller.yaml"
    smaller.write_text(yaml.safe_dump(raw))
    result = runner.invoke(app, ["run", str(smaller), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    board = pd.read_csv(run_dir / "leaderboard.csv")
    assert set(board["model"]) == {"scorecard", "lightgbm", "random_forest", "mlp",
                                   "yim_mitchell", "stacking", "ebm"}
    assert board["auc"].between(0.6, 1.0).all(), board[["model", "auc"]]
