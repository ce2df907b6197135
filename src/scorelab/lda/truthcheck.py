"""The truth check: does the alternative's gain hold out of sample, against the truth?

On a synthetic population the reference and each chosen alternative are refitted, under
the same protocol (folds of the study's size), on a *fresh* population drawn from the
same causal model with a new seed, and judged out of fold there: is the disparity
reduction still there (paired bootstrap interval), does accuracy against the **true**
outcome hold (paired DeLong test against the tolerance), and are the protected group's
true good payers approved at least as often as under the reference? On a real table no
truth exists: the models are fitted on the searched rows and judged on the held-out
rows against the observed outcome, and the check says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scorelab.config import ExperimentConfig, ModelSpec
from scorelab.core.scale import decide, scale_from_config
from scorelab.data.synthetic import Population, generate_population
from scorelab.engine import FitSample, Fold, make_folds
from scorelab.evaluate.compare import delong_test
from scorelab.lda.disparity import approve_share, bootstrap_weights, group_approvals
from scorelab.lda.engine import fit_candidates, prepare_specs
from scorelab.lda.frontier import serves_need

__all__ = ["truth_check"]


def _fits(config: ExperimentConfig, specs: list[ModelSpec], population: Population,
          frame: pd.DataFrame, y: np.ndarray, folds: list[Fold], real_table: bool
          ) -> dict[str, np.ndarray]:
    models = prepare_specs(config, specs, population.schema)
    fits = fit_candidates(models, frame, y, folds, config.evaluation.n_jobs,
                          sample=FitSample.of(config.compute.sample_size, config.seed))
    # one repeat: the held-out rows of a table, or every citizen of the fresh population
    return {name: oof[0] for name, oof in fits.oof.items()}


def _interval(values: np.ndarray, alpha: float) -> list[float]:
    low, high = np.nanquantile(values, [alpha / 2, 1 - alpha / 2])
    return [float(low), float(high)]


def truth_check(config: ExperimentConfig, population: Population, searched: pd.DataFrame,
                held: pd.DataFrame | None, reference: ModelSpec,
                chosen: dict[str, tuple[ModelSpec, float]], attribute_mask: Any
                ) -> dict[str, Any]:
    """Reference and the ``chosen`` alternatives (name -> (spec, the tolerance it was
    chosen at)) refitted and judged on data the search never saw; ``held`` is a table's
    held-out rows (None: synthetic, a fresh population is drawn).

    ``attribute_mask(frame)`` gives the protected group of a frame (the search's).
    """
    real_table = held is not None
    lda, seed = config.lda, config.lda.truth_seed
    target = population.schema.target
    if real_table:
        frame = pd.concat([searched, held], ignore_index=True)
        test = np.arange(len(searched), len(frame))
        folds = [Fold(0, 0, np.arange(len(searched)), test)]
        what = "held-out rows of the table, against the observed outcome"
    else:
        seed = config.seed + 1 if seed is None else seed
        fresh = generate_population(config.population, seed).frame
        frame = fresh
        y_fresh = frame[target].to_numpy().astype(np.int64)
        folds = make_folds(y_fresh, config.evaluation.folds, 1, seed)
        test = np.arange(len(frame))
        what = f"a fresh population of {len(frame):,} citizens (seed {seed}), out of fold"
    y = frame[target].to_numpy().astype(np.int64)
    specs = [reference, *(spec for spec, _ in chosen.values())]
    p = _fits(config, specs, population, frame, y, folds, real_table)
    truth = frame["true_default"].to_numpy() if "true_default" in frame else y
    mask = np.asarray(attribute_mask(frame))[test]
    truth_t = truth[test]
    p_ref = p[reference.name][test]
    approved_ref, _ = decide(scale_from_config(config.scale).points(p_ref), config.decision)
    rate = float(np.mean(approved_ref))
    weights = bootstrap_weights(test.size, lda.bootstrap, seed or config.seed)
    good = truth_t == 0
    rows = []
    names = [reference.name, *chosen]
    approved = approve_share(np.vstack([p[n][test] for n in names]), rate)
    inside, outside = group_approvals(approved, mask, weights)
    disparity = np.abs(1.0 - inside / outside)  # (B, k)
    good_in, _ = group_approvals(approved[:, good], mask[good], weights[:, good])
    point_in, point_out = group_approvals(approved, mask)
    point_good, _ = group_approvals(approved[:, good], mask[good])
    for i, name in enumerate(names):
        accuracy = delong_test(truth_t, p_ref, p[name][test])
        row = {"model": name, "role": "reference" if i == 0 else "alternative",
               "air": float(point_in[i] / point_out[i]),
               "disparity": float(abs(1 - point_in[i] / point_out[i])),
               "auc_true": accuracy["auc_b"], "auc_true_loss": accuracy["diff"],
               "protected_good_payer_approval": float(point_good[i])}
        if i > 0:
            reduction = disparity[:, 0] - disparity[:, i]
            good_gain = good_in[:, i] - good_in[:, 0]
            row.update(
                tolerance=chosen[name][1],
                reduction=float(rows[0]["disparity"] - row["disparity"]),
                reduction_interval=_interval(reduction, lda.alpha),
                accuracy_holds=bool(serves_need(np.array([accuracy["diff"]]),
                                                np.array([accuracy["se"]]), chosen[name][1],
                                                lda.alpha)[0]),
                good_payer_gain=float(point_good[i] - point_good[0]),
                good_payer_gain_interval=_interval(good_gain, lda.alpha))
            row["reduction_holds"] = row["reduction_interval"][0] > 0
            row["good_payers_hold"] = row["good_payer_gain"] >= 0
            row["holds"] = bool(row["reduction_holds"] and row["accuracy_holds"]
                                and row["good_payers_hold"])
        rows.append(row)
    return {"possible": not real_table, "on": what,
            "outcome": "observed" if real_table else "true", "rows": rows}
