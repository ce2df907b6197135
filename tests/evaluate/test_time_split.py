"""Out-of-time folds: the latest applications are a fold of their own, scored by models
trained on every earlier application; application months on the synthetic population
leave every other column as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scorelab.config import SyntheticPopulation
from scorelab.data.synthetic import generate_population
from scorelab.evaluate.time_split import time_folds
from scorelab.exceptions import DataError


def test_the_latest_applications_form_the_last_fold() -> None:
    rng = np.random.default_rng(0)
    months = rng.integers(0, 12, 900)
    y = (rng.random(900) < 0.3).astype(int)
    folds = time_folds(y, months, folds=3, repeats=2, seed=1, test_share=0.25,
                       date_column="month")
    for repeat in (0, 1):
        mine = [f for f in folds if f.repeat == repeat]
        assert [f.fold for f in mine] == [0, 1, 2, 3]
        tested = np.sort(np.concatenate([f.test for f in mine]))
        np.testing.assert_array_equal(tested, np.arange(900))  # each citizen once
        oot = mine[-1]
        assert months[oot.test].min() > months[oot.train].max()  # no month straddles
        np.testing.assert_array_equal(np.sort(oot.train),
                                      np.flatnonzero(months < months[oot.test].min()))
        for f in mine[:-1]:  # the earlier folds never test a late application
            assert months[f.test].max() < months[oot.test].min()
    assert abs(folds[-1].test.size / 900 - 0.25) < 0.1


def test_dates_order_the_split_too() -> None:
    dates = pd.to_datetime(["2021-01-05", "2021-03-01", "2021-02-01", "2021-04-01"] * 50)
    y = (np.arange(200) % 3 == 0).astype(int)
    oot = time_folds(y, dates.to_numpy(), 2, 1, 0, 0.25, "signed")[-1]
    assert set(dates[oot.test].strftime("%Y-%m")) == {"2021-04"}


def test_a_one_class_out_of_time_fold_is_refused_in_one_line() -> None:
    months = np.arange(100) // 10
    y = np.where(months >= 9, 0, np.arange(100) % 2)
    with pytest.raises(DataError, match="out-of-time fold .* holds non-defaulters only"):
        time_folds(y, months, 2, 1, 0, 0.1, "application_month")


def test_months_without_drift_change_no_other_column() -> None:
    plain = generate_population(SyntheticPopulation(n_citizens=2000), 4)
    dated = generate_population(SyntheticPopulation(n_citizens=2000, months=12), 4)
    assert "application_month" not in plain.frame
    assert dated.schema.with_role("date") == ["application_month"]
    assert "application_month" not in dated.features
    pd.testing.assert_frame_equal(dated.frame.drop(columns="application_month"), plain.frame)
    assert set(dated.frame["application_month"]) == set(range(12))


def test_drift_moves_the_causes_of_the_late_months() -> None:
    frame = generate_population(SyntheticPopulation(n_citizens=6000, months=12, drift=2.0),
                                4).frame
    early, late = frame[frame["application_month"] < 3], frame[frame["application_month"] > 8]
    assert late["situational_events"].mean() > 3 * early["situational_events"].mean()
    assert late["debt_to_income"].median() > 2 * early["debt_to_income"].median()
    assert late["true_pd"].mean() > early["true_pd"].mean()
