"""Saving and loading fitted estimators (skops, never pickle): every registered family
comes back predicting bit for bit the same; untrusted, foreign and corrupt files are
refused with one line naming the file."""

from __future__ import annotations

import ast
import copy
import re
import zipfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from scorelab.config import ModelSpec, config_from_dict
from scorelab.data import generate_population
from scorelab.exceptions import DataError, OutputError
from scorelab.models import persist
from scorelab.models.expert import SuiningPoints
from scorelab.models.persist import TRUSTED_TYPES, load_model, save_model
from scorelab.models.plain import from_plain, to_plain
from scorelab.models.registry import FAMILY_CLASSES, build_model

pytestmark = pytest.mark.heavy  # fits many models or runs a study: not in `make check`

SMALL_LOGIT = {"max_n_bins": 4, "max_n_prebins": 8}
SMALL_LGBM = {"n_estimators": 20, "num_leaves": 7, "min_child_samples": 5}
SMALL_NET = {"hidden_layer_sizes": [16], "max_iter": 300, "learning_rate_init": 1e-2}

# Hybrids and mitigation variants on the population, and LightGBM's text copies
# written beside model.skops where one holds boosters
POPULATION_CASES = [
    ("hybrid", "yim_mitchell", {"first_stage": {"family": "logit", "params": SMALL_LOGIT},
                                "inner_folds": 2, **SMALL_NET}, []),
    ("mitigation", "exponentiated_gradient", {"max_iter": 5}, []),
    ("mitigation", "threshold_optimizer", {"grid_size": 50}, []),
    ("trees", "lightgbm", SMALL_LGBM, ["model.booster.txt"]),
    ("trees", "forest", {"n_estimators": 10, "num_leaves": 15, "min_child_samples": 5},
     ["model.booster.txt"]),
    ("hybrid", "expert_boost", SMALL_LGBM, ["model.booster.booster.txt"]),
    ("hybrid", "stacking", {"estimators": [{"family": "logit", "params": SMALL_LOGIT},
                                           {"family": "trees", "params": SMALL_LGBM}],
                            "inner_folds": 2}, ["model.estimators.1.booster.txt"]),
    ("hybrid", "hces_bag", {"budget": 1, "inner_folds": 2, "bags": 2},
     ["model.estimators.0.booster.txt"]),
    ("mitigation", "exponentiated_gradient",  # a LightGBM base: one booster per predictor
     {"max_iter": 3, "base": "trees/lightgbm", "base_params": SMALL_LGBM}, None),
]


@pytest.fixture(scope="module")
def split():
    cfg = config_from_dict({"seed": 3, "population": {"n_citizens": 600}})
    pop = generate_population(cfg.population, cfg.seed)
    X = pop.frame[pop.features + ["age"]]  # age: the mitigators' sensitive column
    y = pop.frame["defaulted"].to_numpy()
    return pop.features, X.iloc[:400], y[:400], X.iloc[400:]


@pytest.fixture(scope="module")
def generic():
    """The columns the families' test settings name (col_0, col_1, ...), as scikit-learn's
    estimator checks give them: numbers."""
    rng = np.random.default_rng(5)
    n = 500
    X = pd.DataFrame({f"col_{j}": rng.normal(size=n) for j in range(4)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(X["col_0"] - X["col_1"])))).astype(int)
    return X.iloc[:400], y[:400], X.iloc[400:]


def _fitted(split, family: str, kind: str, params: dict):
    features, X, y, X_test = split
    columns = features + ["age"] if family == "mitigation" else features  # use_protected
    est = build_model(ModelSpec(family=family, kind=kind, name="m", params=params))
    return est.fit(X[columns], y), X_test[columns]


def test_every_registered_class_is_a_trusted_type():
    scorelab_types = {t for t in TRUSTED_TYPES if t.startswith("scorelab.")}
    assert {f"{c.__module__}.{c.__qualname__}" for c in FAMILY_CLASSES} <= scorelab_types


def _check_round_trip(est, X_test, tmp_path) -> list[Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    expected = est.predict_proba(X_test)
    path = tmp_path / "model.skops"
    written = save_model(est, path)
    loaded = load_model(path)
    assert type(loaded) is type(est)
    assert np.array_equal(loaded.predict_proba(X_test), expected)
    assert np.array_equal(est.predict_proba(X_test), expected)  # the original is untouched
    assert written[0] == path
    files = sorted(p.name for p in tmp_path.rglob("*"))
    assert files == sorted(p.name for p in written)
    assert not [f for f in files if f.endswith((".pkl", ".pickle"))]
    return written


@pytest.mark.parametrize("cls", FAMILY_CLASSES, ids=lambda c: f"{c.family}-{c.kind}")
def test_round_trip_predicts_bit_for_bit(split, generic, tmp_path, cls):
    """Every registered family: with its own small settings on generic columns, and (the
    families not made of others) with its defaults on the population (categories,
    missing values); the hybrids on the population below."""
    X, y, X_test = generic
    _check_round_trip(cls(**cls.test_params()).fit(X, y), X_test, tmp_path / "small")
    if cls.family not in ("hybrid", "mitigation"):  # those are made of the families here
        features, X, y, X_test = split
        _check_round_trip(cls().fit(X[features], y), X_test[features], tmp_path / "default")


@pytest.mark.parametrize(("family", "kind", "params", "boosters"), POPULATION_CASES,
                         ids=[f"{f}-{k}" + ("-lgbm" if p.get("base") else "")
                              for f, k, p, _ in POPULATION_CASES])
def test_round_trip_on_the_population_with_its_boosters(split, tmp_path, family, kind, params,
                                               boosters):
    est, X_test = _fitted(split, family, kind, params)
    written = _check_round_trip(est, X_test, tmp_path)
    if boosters is None:  # one per predictor that ExponentiatedGradient kept
        boosters = [f"model.predictors.{i}.booster.txt" for i in range(len(est.predictors_))]
    assert written[1:] == [tmp_path / name for name in boosters]


def test_lightgbm_booster_survives_and_its_text_copy_scores_the_same(split, tmp_path):
    est, X_test = _fitted(split, "trees", "lightgbm", SMALL_LGBM)
    path = tmp_path / "model.skops"
    _, text = save_model(est, path)
    loaded = load_model(path)
    assert isinstance(loaded.booster_, lgb.Booster)
    assert loaded.booster_.model_to_string() == est.booster_.model_to_string()
    assert np.array_equal(loaded.pred_contrib(X_test), est.pred_contrib(X_test))
    native = lgb.Booster(model_file=text)  # the interoperable copy: raw log-odds
    assert np.array_equal(native.predict(X_test, raw_score=True), est.decision_function(X_test))


def test_scorecard_points_and_tables_survive(split, tmp_path):
    est, X_test = _fitted(split, "logit", "scorecard", SMALL_LOGIT)
    save_model(est, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    assert np.array_equal(loaded.points(X_test), est.points(X_test))
    pd.testing.assert_frame_equal(loaded.points_table(), est.points_table())
    pd.testing.assert_frame_equal(loaded.scorecard_.table(style="detailed"),
                                  est.scorecard_.table(style="detailed"))
    pd.testing.assert_frame_equal(loaded.scorecard_.binning_process_.summary(),
                                  est.scorecard_.binning_process_.summary())
    pd.testing.assert_series_equal(loaded.coef_, est.coef_)
    # saving converted copies only: the fitted scorecard still holds its pandas objects
    assert isinstance(est.scorecard_._df_scorecard, pd.DataFrame)


@pytest.mark.parametrize(("family", "kind", "params"), [
    ("logit", "scorecard", SMALL_LOGIT), ("trees", "lightgbm", SMALL_LGBM)])
def test_copies_and_in_memory_pickles_still_work(split, family, kind, params):
    """The state methods that keep pandas out of skops files serve copy and pickle too
    (joblib pickles estimators for its workers): same objects back, original untouched."""
    import pickle  # in memory only, as joblib does; never in persist.py nor in a file

    est, X_test = _fitted(split, family, kind, params)
    expected = est.predict_proba(X_test)
    for twin in (copy.copy(est), copy.deepcopy(est), pickle.loads(pickle.dumps(est))):
        assert np.array_equal(twin.predict_proba(X_test), expected)
        assert _types_of(twin) == _types_of(est)
    assert np.array_equal(est.predict_proba(X_test), expected)
    assert isinstance(est.coef_ if family == "logit" else est.categories_["sector"],
                      pd.Series | pd.Index)


def _types_of(est) -> dict[str, object]:
    """Each attribute's type (a dict's: the types of its values)."""
    return {k: {kk: type(vv) for kk, vv in v.items()} if isinstance(v, dict) else type(v)
            for k, v in vars(est).items()}


class _Stowaway(SuiningPoints):
    """A scorelab estimator subclass that scorelab does not declare."""


def _refusal(path: Path) -> str:
    return re.escape(f"model file '{path}': refusing to load untrusted type(s) ")


def test_a_type_defined_elsewhere_is_refused(split, tmp_path):
    features, X, y, _ = split
    path = tmp_path / "model.skops"
    sio.dump(_Stowaway().fit(X[features], y), path)
    with pytest.raises(DataError, match=_refusal(path) + r".*_Stowaway \(scorelab loads"):
        load_model(path)


@pytest.mark.parametrize("hook", [eval, np.load], ids=["builtins.eval", "numpy.load"])
def test_a_function_hidden_in_an_estimator_is_refused(split, tmp_path, hook):
    features, X, y, _ = split
    est = SuiningPoints().fit(X[features], y)
    est.hook_ = hook
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    name = f"{hook.__module__ if hook is np.load else 'builtins'}.{hook.__name__}"
    with pytest.raises(DataError, match=_refusal(path) + re.escape(name)):
        load_model(path)


def test_a_scikit_learn_estimator_not_on_the_list_is_refused(split, tmp_path):
    """skops itself trusts every scikit-learn estimator; scorelab only its own parts."""
    features, X, y, _ = split
    path = tmp_path / "model.skops"
    sio.dump(DecisionTreeClassifier(max_depth=2).fit(X[features[-5:]], y), path)
    with pytest.raises(DataError, match=_refusal(path) + r".*DecisionTreeClassifier") as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_a_file_without_a_scorelab_estimator_is_refused(split, tmp_path):
    features, X, y, _ = split
    path = tmp_path / "model.skops"
    sio.dump(LogisticRegression().fit(X[features[-5:]].fillna(0.0), y), path)
    with pytest.raises(DataError, match="holds a LogisticRegression, not a scorelab"):
        load_model(path)


@pytest.mark.parametrize("damage", ["random", "truncated", "missing", "not_a_skops_zip"])
def test_missing_or_corrupt_files_are_one_line_data_errors(split, tmp_path, damage):
    features, X, y, _ = split
    path = tmp_path / "model.skops"
    if damage == "random":
        path.write_bytes(np.random.default_rng(0).bytes(512))
    elif damage == "truncated":
        save_model(SuiningPoints().fit(X[features], y), path)
        path.write_bytes(path.read_bytes()[:300])
    elif damage == "not_a_skops_zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    with pytest.raises(DataError, match=re.escape(f"model file '{path}': cannot")) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_only_skops_files_are_written(split, tmp_path):
    features, X, y, _ = split
    est = SuiningPoints().fit(X[features], y)
    with pytest.raises(OutputError, match=r"must end with \.skops"):
        save_model(est, tmp_path / "model.pkl")
    assert not list(tmp_path.iterdir())


def test_persist_never_imports_pickle():
    tree = ast.parse(Path(persist.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert "skops" in imported
    assert not imported & {"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "joblib"}


@pytest.mark.parametrize("obj", [
    pd.Index(["a", "b"]),
    pd.Index(["a", 1, None], dtype=object),
    pd.Index([1, 2], dtype="int32"),
    pd.Index([True, False]),
    pd.Index([1.5, np.nan], name="x"),
    pd.Index(["x", None], dtype=pd.StringDtype("python", na_value=pd.NA)),
    pd.CategoricalIndex(["a", "b", "a"], categories=["b", "a"], ordered=True),
    pd.RangeIndex(2, 10, 2, name="r"),
    pd.Series([1.0, 2.0], index=["a", "b"], name="mean"),
    pd.Series(pd.Categorical(["a", None]), name=("t", 1)),
    pd.Series(["a", np.nan], dtype=object, index=pd.Index(["u", "v"], dtype=object)),
    pd.DataFrame({"a": [1, 2], "b": ["x", np.nan],
                  "c": np.array([pd.array(["p", "q"], dtype="str"), "s"], dtype=object)},
                 index=[0, 0]),
    pd.DataFrame(index=pd.Index([1, 2, 3])),
    pd.array(["a", None, "b"], dtype="str"),
    pd.Categorical(["a", "b", None], categories=["b", "a", "c"]),
], ids=lambda obj: type(obj).__name__)
def test_pandas_objects_round_trip_exactly_as_plain_data(obj, tmp_path):
    plain = to_plain({"held": [obj]})
    assert not isinstance(plain["held"][0], type(obj))  # stored as a tagged dict ...
    sio.dump(plain, tmp_path / "plain.skops")  # ... that skops accepts
    back = from_plain(sio.load(tmp_path / "plain.skops", trusted=["numpy.dtype"]))["held"][0]
    assert type(back) is type(obj)
    if isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(back, obj, check_index_type=True,
                                      check_column_type=True, check_exact=True)
        if "c" in obj:
            assert type(back["c"].iloc[0]) is type(obj["c"].iloc[0])
    elif isinstance(obj, pd.Series):
        pd.testing.assert_series_equal(back, obj, check_index_type=True, check_exact=True)
    elif isinstance(obj, pd.Index):
        pd.testing.assert_index_equal(back, obj, exact=True)
    else:
        pd.testing.assert_extension_array_equal(back, obj)
