"""Reason fidelity: the measure itself, without a study.

A sound measure must give an oracle (a model scoring exactly the true nameable terms,
its reasons ranked the same way) 100% and a deliberately wrong explainer (reasons
shuffled across the declined, or each applicant's least adverse inputs) a low share;
every declined applicant must be counted, and the projection's sampling tolerance must
widen the principal reasons only where two true terms are within it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scorelab.data.synthetic import generate_population
from scorelab.explain.fidelity import (
    REFERENCE_APPROVED,
    REFERENCE_BEST,
    Truth,
    nameable_truth,
    reason_fidelity,
    terms_reproduce_truth,
    true_terms,
)
from tests.conftest import make_config


@pytest.fixture(scope="module")
def population():
    config = make_config(n=3000, seed=11)
    pop = generate_population(config.population, config.seed)
    return pop.frame, config.population


@pytest.fixture(scope="module")
def truth(population):
    frame, cfg = population
    return nameable_truth(frame, cfg, draws=30, seed=3)


def _oracle(truth: Truth, nameable: list[str], reference: str = REFERENCE_APPROVED,
            k: int = 4):
    """Decisions and reasons of a model whose score is exactly the nameable truth: the
    riskiest fifth is declined, its reasons are its adverse terms in the truth's order."""
    values = truth.values()
    score = values.sum(axis=1)
    approved = score < np.quantile(score, 0.8)
    ref = values[approved].mean(axis=0) if reference == REFERENCE_APPROVED else truth.best
    allowed = np.isin(truth.named, nameable)
    gap = np.where(allowed & (values - ref > 0), values - ref, -np.inf)
    order = np.argsort(-gap, axis=1)[:, :k]
    reasons = np.asarray(truth.named, dtype=object)[order]
    reasons[~np.isfinite(np.take_along_axis(gap, order, axis=1))] = ""
    reasons[approved] = ""
    return approved, reasons


def test_the_terms_are_the_projection_and_its_draws_scatter_around_it(population, truth):
    frame, cfg = population
    assert np.allclose(truth.terms.to_numpy(), true_terms(frame, cfg).to_numpy())
    assert terms_reproduce_truth(frame, truth.terms)
    rows = np.arange(200)
    draws = truth.replicates(rows)
    assert draws.shape == (30, 200, len(truth.named))
    spread = draws.std(axis=0)
    assert 0 < np.median(spread[spread > 0]) < 0.1  # a few hundredths of a log-odds
    assert np.abs(draws.mean(axis=0) - truth.values(rows)).max() < 4 * spread.max()


@pytest.mark.parametrize("reference", [REFERENCE_APPROVED, REFERENCE_BEST])
def test_an_oracle_scores_every_declined_applicant_right(truth, reference):
    nameable = [c for c in truth.named if c != "age"]
    approved, reasons = _oracle(truth, nameable, reference)
    rows = np.arange(len(approved))
    out = reason_fidelity(reasons, truth, rows, ~approved, approved, nameable,
                          reference=reference)
    assert out["n_counted"] == out["n_declined"] == int((~approved).sum())
    assert out["fidelity"] == 1.0 and out["top_in_reasons"] == 1.0
    assert out["interval"][0] > 0.99
    assert out["reference"] == reference


def test_wrong_explainers_score_low(truth):
    nameable = [c for c in truth.named if c != "age"]
    approved, reasons = _oracle(truth, nameable)
    rows = np.arange(len(approved))
    declined = np.flatnonzero(~approved)
    shuffled = reasons.copy()
    shuffled[declined] = reasons[np.random.default_rng(0).permutation(declined)]
    out = reason_fidelity(shuffled, truth, rows, ~approved, approved, nameable)
    oracle = reason_fidelity(reasons, truth, rows, ~approved, approved, nameable)
    assert out["fidelity"] < 0.5 and out["interval"][1] < oracle["interval"][0]
    assert out["top_in_reasons"] < oracle["top_in_reasons_interval"][0]
    # the chance level is what shuffled reasons score, on average
    assert out["fidelity"] == pytest.approx(oracle["chance"]["fidelity"], abs=0.05)
    assert out["top_in_reasons"] == pytest.approx(oracle["chance"]["top_in_reasons"],
                                                  abs=0.05)
    # the least adverse inputs first: nearly never a principal reason
    values = truth.values()
    gap = values - values[approved].mean(axis=0)
    allowed = np.isin(truth.named, nameable)
    worst = np.asarray(truth.named, dtype=object)[
        np.argsort(np.where(allowed, gap, np.inf), axis=1)[:, :4]]
    low = reason_fidelity(worst, truth, rows, ~approved, approved, nameable)
    assert low["fidelity"] < 0.05 and low["top_in_reasons"] < 0.05


def test_every_declined_is_counted_and_the_latent_remainder_is_not_ranked():
    terms = pd.DataFrame({"latent_reliability": [0.0, 0.0, 2.0, 0.0, -1.0],
                          "debt_to_income": [1.0, 1.0, -0.5, 0.0, -1.0],
                          "age": [0.0, 0.0, -0.8, 1.5, -1.0]})
    declined = np.array([True, True, True, True, False])
    first = np.array(["debt_to_income", "income", "late_payments", "debt_to_income", ""],
                     dtype=object)
    out = reason_fidelity(first, terms, np.arange(5), declined, ~declined,
                          ["debt_to_income", "income", "late_payments"])
    # against the approved citizen 4, debt is adverse for all four declined; age is not
    # nameable, so citizen 3 is ranked over what the model may name (debt) and counted
    assert out["n_counted"] == out["n_declined"] == 4
    assert out["fidelity"] == pytest.approx(2 / 4) == out["top_in_reasons"]
    assert out["share_not_nameable"] == 0.25  # citizen 3: age is the largest term
    assert out["share_latent_largest"] == 0.25  # citizen 2: the latent term is larger
    low, high = out["interval"]
    assert 0 < low < 0.5 < high < 1
    assert out["tolerance"]["draws"] == 0  # a frame of terms is exact


def test_the_sampling_tolerance_widens_only_near_ties():
    terms = pd.DataFrame({"a": [1.00, 1.0, 0.0], "b": [0.99, 0.5, 0.0]})
    design = terms.to_numpy()  # term j = coef_j * design_j
    coef = np.array([1.0, 1.0])
    draws = np.array([[1.0, 1.0], [0.98, 1.02], [1.02, 0.98]])
    truth = Truth(terms, design, np.array([0, 1]), coef, draws)
    declined = np.array([True, True, False])
    given = np.array([["b"], ["b"], [""]], dtype=object)
    exact = reason_fidelity(given, terms, np.arange(3), declined, ~declined, ["a", "b"])
    tolerant = reason_fidelity(given, truth, np.arange(3), declined, ~declined, ["a", "b"])
    assert exact["fidelity"] == 0.0  # b is never the exact largest
    assert tolerant["fidelity"] == 0.5  # citizen 0: a and b within the tolerance
    assert exact["top_in_reasons"] == 0.0 and tolerant["top_in_reasons"] == 0.5


def test_no_reason_for_no_adverse_term_agrees_and_a_reason_for_none_does_not():
    terms = pd.DataFrame({"a": [-1.0, -1.0, 0.0], "b": [-1.0, -1.0, 0.0]})
    declined = np.array([True, True, False])
    given = np.array([["", ""], ["a", ""], ["", ""]], dtype=object)
    out = reason_fidelity(given, terms, np.arange(3), declined, ~declined, ["a", "b"])
    assert out["fidelity"] == 0.5 and out["top_in_reasons"] == 0.5


def test_an_unknown_reference_is_refused():
    terms = pd.DataFrame({"a": [1.0, 0.0]})
    with pytest.raises(ValueError, match="unknown reference"):
        reason_fidelity(np.array(["a", ""], dtype=object), terms, np.arange(2),
                        np.array([True, False]), np.array([False, True]), ["a"],
                        reference="median")
