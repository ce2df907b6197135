"""The Python API: configs that are easy to vary, a run as an object, and the CLI giving
exactly the same numbers as the API it wraps."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import scorelab
from scorelab.cli.commands import app
from tests.conftest import DEFAULT_CONFIG

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

runner = CliRunner()
BAD = Path(__file__).parent / "bad_inputs" / "score"
SMALL = {"name": "api", "seed": 3, "population": {"n_citizens": 900},
         "models": [{"family": "logit", "name": "scorecard"},
                    {"family": "trees", "name": "lightgbm", "params": {"n_estimators": 40}}],
         "evaluation": {"folds": 3, "bootstrap": 20, "n_jobs": 2},
         "explain": {"sample_size": 30}, "fairness": {"bootstrap": 0}}


@pytest.fixture(scope="module")
def api_run(tmp_path_factory: pytest.TempPathFactory) -> scorelab.Run:
    return scorelab.run(SMALL, runs_dir=tmp_path_factory.mktemp("runs"))


def test_load_config_with_dotted_and_keyword_overrides() -> None:
    config = scorelab.load_config(DEFAULT_CONFIG, {"population.n_citizens": 5000}, seed=9)
    assert config.population.n_citizens == 5000 and config.seed == 9
    varied = config.with_(population__n_citizens=700, **{"models.0.name": "rules"})
    assert varied.population.n_citizens == 700 and varied.models[0].name == "rules"
    assert config.population.n_citizens == 5000  # the original is untouched (frozen)


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"population.n_citizen": 5}, "unknown key 'population.n_citizen'; valid keys here: "),
    ({"population.n_citizens": "many"}, "population.n_citizens: Input should be a valid "
                                         "integer"),
    ({"seed.x": 1}, "override 'seed.x': 'seed' is a value, not a section"),
    ({"nope.x": 1}, "override 'nope.x': unknown key 'nope'; valid keys here: compute, "
                    "decision"),
    ({"models.99.name": "a"}, "override 'models.99.name': 'models.99' needs a list index"),
])
def test_bad_overrides_name_the_key(overrides: dict, fragment: str) -> None:
    with pytest.raises(scorelab.ConfigError, match=fragment.replace(".", r"\.")
                       .replace("(", r"\(").replace(")", r"\)")) as info:
        scorelab.load_config(DEFAULT_CONFIG, overrides)
    assert "\n" not in str(info.value)


def test_run_accepts_a_config_object_a_path_or_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(scorelab.ConfigError, match="ExperimentConfig, a path or a mapping"):
        scorelab.run(42)  # type: ignore[arg-type]
    with pytest.raises(scorelab.ConfigError, match="unknown key 'modles'"):
        scorelab.run({"modles": []})


def test_leaderboard_equals_the_csv(api_run: scorelab.Run) -> None:
    csv = pd.read_csv(api_run.path / "leaderboard.csv")
    pd.testing.assert_frame_equal(api_run.leaderboard, csv.assign(model=csv["model"].astype(str)))
    again = scorelab.load_run(api_run.path)
    pd.testing.assert_frame_equal(again.leaderboard, api_run.leaderboard)


def test_tables_of_a_run(api_run: scorelab.Run) -> None:
    metrics = api_run.metrics
    assert list(metrics["model"]) == list(api_run.leaderboard["model"])
    assert {"auc", "auc_low", "auc_high", "brier", "role"} <= set(metrics.columns)
    assert set(api_run.fairness["model"]) == {"scorecard", "lightgbm"}
    assert {"attribute", "group", "metric", "value"} <= set(api_run.groups.columns)
    model = api_run.models["lightgbm"]
    assert model.card["name"] == "lightgbm" and len(api_run.models) == 2
    population = pd.read_parquet(api_run.path / "population.parquet")
    p = model.predict_proba(population)[:, 1]
    assert p.shape == (900,) and ((p > 0) & (p < 1)).all()


def test_saved_models_behave_as_a_mapping(api_run: scorelab.Run) -> None:
    models = api_run.models
    assert "lightgbm" in models and "astrology" not in models
    assert models.get("astrology") is None and models.get("lightgbm") is models["lightgbm"]
    assert sorted(models) == sorted(models.keys()) == ["lightgbm", "scorecard"]
    with pytest.raises(KeyError) as caught:
        models["astrology"]
    assert isinstance(caught.value, scorelab.UnknownModel)
    assert "astrology" in str(caught.value) and "lightgbm" in str(caught.value)


def test_score_equals_the_cli(api_run: scorelab.Run, tmp_path: Path) -> None:
    applicants = pd.read_csv(BAD / "ok_with_extra.csv")
    from_api = api_run.score(applicants, "scorecard")
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["score", str(api_run.path), str(BAD / "ok_with_extra.csv"),
                                 "--out", str(out), "--model", "scorecard"])
    assert result.exit_code == 0, result.output
    from_cli = pd.read_csv(out)
    assert list(from_cli.columns) == list(from_api.columns)
    for column in from_api.columns:
        left, right = from_api[column], from_cli[column]
        if pd.api.types.is_float_dtype(left):
            assert (left - right).abs().max() < 1e-12 or left.isna().equals(right.isna())
        else:
            assert left.astype(str).tolist() == right.astype(str).tolist(), column


def test_explain_equals_the_cli(api_run: scorelab.Run) -> None:
    citizen = int(api_run.predictions["citizen_id"].iloc[100])
    from_api = api_run.explain(citizen, "lightgbm")
    result = runner.invoke(app, ["explain", str(api_run.path), "--citizen", str(citizen),
                                 "--model", "lightgbm", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(json.dumps(from_api))
    row = pd.read_csv(BAD / "ok_with_extra.csv").iloc[[1]]
    new = api_run.explain(row, "lightgbm")
    assert new["explained_by"] == "final model"


def test_reprs_are_short_and_never_dump_the_config(api_run: scorelab.Run) -> None:
    text = repr(api_run)
    assert len(text.splitlines()) <= 20 and "lightgbm" in text and "Run " in text
    page = api_run._repr_html_()
    assert "<table" in page and "scorecard" in page
    assert "n_citizens" not in page and "causes" not in page and "schema_version" not in page
    assert str(api_run.report()).endswith("report.html")
    assert "<html" in api_run.report(html=True).lower()


def test_a_dataframe_population(tmp_path: Path) -> None:
    from tests.test_table_run import _table

    _table(tmp_path / "t.csv", n=600)
    frame = pd.read_csv(tmp_path / "t.csv")
    config = {"name": "frame", "population": {"source": "table", "target": "outcome",
                                              "default_value": "bad",
                                              "protected": {"age": "continuous"}},
              "models": [{"family": "logit", "name": "scorecard"}],
              "evaluation": {"folds": 3, "bootstrap": 0}, "explain": {"enabled": False},
              "fairness": {"attributes": ["age"], "intersections": [], "bootstrap": 0,
                           "min_group_size": 20}}
    result = scorelab.run(config, population=frame, runs_dir=tmp_path / "runs")
    assert result.data.study.population.n_citizens == 600
    assert result.data.study.population.table == "a DataFrame"
    with pytest.raises(scorelab.ConfigError, match="a DataFrame population needs a table"):
        scorelab.run(SMALL, population=frame, runs_dir=tmp_path / "runs2")
    with pytest.raises(scorelab.DataError, match="population.path: a table study needs"):
        scorelab.run(config, runs_dir=tmp_path / "runs3")
