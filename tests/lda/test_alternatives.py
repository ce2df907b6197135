"""Issue 29's must-hold: ``scorelab lda`` on the age-proxy scenario makes its chosen
alternatives models of the run (``score --model``, ``explain --model``, ``compare``,
``load_run(...).models``, their cards), and every verdict it prints is the one
``frontier.json`` and ``candidates.parquet`` hold, with the same tolerance, bound and
AUC loss (the search once printed "no alternative ... reduces disparity significantly"
beside "truth check ...: holds", with a bound that was not the table's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from scorelab import api
from scorelab.cli.commands import app
from scorelab.lda.verdict import decision_column, verdict_of
from tests.lda.conftest import scenario

pytestmark = pytest.mark.heavy  # a study and a search

runner = CliRunner()


@pytest.fixture(scope="module")
def lda_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The age-proxy scenario, small: a LightGBM reference, LightGBMs with the proxies
    dropped (what the search chooses here; scorecard candidates would only add fits)."""
    config = scenario("age_proxy", 1500, **{
        "evaluation.bootstrap": 30, "fairness.bootstrap": 30,
        "fairness.label_bias_refit": False,
        "models": [{"family": "trees", "name": "lightgbm", "kind": "lightgbm",
                    "params": {"n_estimators": 60}}],
        "lda.families": ["trees/lightgbm"],
        "lda.params": {"trees/lightgbm": {"n_estimators": [60]}}})
    folder = tmp_path_factory.mktemp("lda-cli")
    path = folder / "age_proxy.yaml"
    path.write_text(api.dump_config(config))
    result = runner.invoke(app, ["lda", str(path), "--runs-dir", str(folder / "runs")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    return Path(lines[-1]), lines


def _frontier(run: Path) -> dict[str, Any]:
    return json.loads((run / "lda" / "frontier.json").read_text())


def test_printed_verdicts_agree_with_frontier_and_candidates(lda_run: tuple[Path, list[str]]
                                                             ) -> None:
    run, lines = lda_run
    frontier = _frontier(run)
    table = pd.read_parquet(run / "lda" / "candidates.parquet").set_index("candidate")
    truth = {r["model"]: r for r in frontier["truth"]["rows"][1:]}
    reference = frontier["reference"]["disparity"]
    for choice in frontier["choices"]:
        assert choice["statement"] in lines  # printed word for word
        name, t = choice["chosen"], choice["tolerance"]
        column = table[decision_column(t)]
        if name is None:
            assert choice["decision"] == "none" and (column == "").all()
            continue
        row = table.loc[name]
        # one bound, one loss, one decision: the table's, in frontier.json and printed
        assert choice["bound"] == row["reduction_low"] == choice["reduction_interval"][0]
        assert choice["auc_loss"] == row["auc_loss"]
        assert column[name] == choice["decision"] and (column.drop(name) == "").all()
        assert choice["significant"] == (row["reduction_low"] > 0)
        assert f"{row['reduction_low']:+.4f}" in choice["statement"]
        # the rule recomputed from the table and the truth check gives the same verdict
        again = verdict_of(t, {**row.to_dict(), "candidate": name}, reference,
                           choice["serving"], len(table), truth.get(name),
                           frontier["truth"]["on"])
        assert again["statement"] == choice["statement"]
        assert again["decision"] == choice["decision"]
        # a verdict never says "not significant" of a significant bound, nor the reverse
        assert ("<= 0" in choice["statement"]) == (row["reduction_low"] <= 0)
        changed = next(x for x in lines if x.strip().startswith(f"{name} changed:"))
        assert changed.strip() == f"{name} changed: {'; '.join(choice['changes'])}."
        assert row["changes"] == "; ".join(choice["changes"])
    verdict = frontier["verdict"]
    head = next(x for x in lines if x.startswith("Verdict: "))
    assert head.startswith(f"Verdict: {verdict['decision']}")
    if verdict["decision"] != "none":
        assert verdict["candidate"] in head


def test_chosen_alternatives_are_models_of_the_run(lda_run: tuple[Path, list[str]],
                                                   tmp_path: Path) -> None:
    run, _ = lda_run
    frontier = _frontier(run)
    chosen = list(dict.fromkeys(c["chosen"] for c in frontier["choices"] if c["chosen"]))
    assert chosen, "the age-proxy scenario gives the search something to choose"
    assert frontier["saved_models"] == chosen
    loaded = api.load_run(run)
    population = loaded.predictions["citizen_id"].drop_duplicates().head(12)
    applicants = tmp_path / "applicants.csv"
    pd.read_parquet(run / "population.parquet").head(12).to_csv(applicants, index=False)
    for name in chosen:
        assert name in loaded.leaderboard["model"].tolist()
        saved = loaded.models[name]  # the Python API
        card = saved.card
        assert any(line.startswith("Less discriminatory alternative to lightgbm")
                   and "changed against lightgbm" in line for line in card["limits"])
        out = tmp_path / f"{name}.csv"
        scored = runner.invoke(app, ["score", str(run), str(applicants), "--model", name,
                                     "-o", str(out)])
        assert scored.exit_code == 0, scored.output
        assert (pd.read_csv(out)["model"] == name).all() and len(pd.read_csv(out)) == 12
        citizen = int(population.iloc[3])
        told = runner.invoke(app, ["explain", str(run), "--citizen", str(citizen), "--model",
                                   name])
        assert told.exit_code == 0, told.output
        assert name in told.stdout
        assert "changed against lightgbm" in (run / "models" / name / "card.md").read_text()
    compared = api.compare_runs([run, run]).as_dict()
    assert set(chosen) <= {r["model"] for r in compared["rows"]}
