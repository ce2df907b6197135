"""Families compared across datasets, the way the literature does.

* Average ranks and Friedman's test with the Iman-Davenport F (Demsar 2006, eq. 1-2:
  the statistic from the average ranks, as the paper and most benchmarks print it), the
  Nemenyi critical difference (studentized range from scipy, pairwise p-values from
  scikit-posthocs) and pairwise Wilcoxon signed-rank tests with Holm (the default, after
  Benavoli, Corani & Mangili 2016: they do not depend on which other models are pooled).
* Per dataset, each model against a control by DeLong's paired test (win / tie / loss)
  and a sign test over datasets; a Bayesian signed-rank test (baycomp) with a region of
  practical equivalence giving P(worse), P(equivalent), P(better).
* Kendall's tau between the accuracy ranking and each fairness ranking, and the
  accuracy-fairness Pareto front of the families' average ranks.

Each metric is turned so that larger is better (:meth:`Metric.goodness`) before any rank
or test, so ``auc``, ``brier`` and a ratio that should be near 1 are ranked alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scorelab.benchmark.config import METRICS, Metric
from scorelab.core.numeric import holm

__all__ = ["FEW_DATASETS", "Ranking", "against_control", "bayes_signed_rank",
           "critical_difference", "dataset_matrix", "friedman", "kendall_between",
           "pareto_front", "rank_metric", "win_tie_loss"]

#: Fewer datasets than this make the tests across datasets weak (Demsar 2006).
FEW_DATASETS = 10


def dataset_matrix(results: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, list[str]]:
    """dataset x model: the metric over each run's out-of-fold set, averaged over the
    seeds; datasets where some model has no value are left out (named in the second
    item), so every test sees complete blocks."""
    rows = results[(results["metric"] == metric) & results["fold"].isna()]
    table = rows.pivot_table(index="dataset", columns="model", values="value",
                             aggfunc="mean", dropna=False, sort=False)
    incomplete = table.index[table.isna().any(axis=1)].tolist()
    return table.dropna(axis=0, how="any"), incomplete


def friedman(goodness: np.ndarray) -> dict[str, float]:
    """Average ranks (1 = best), Friedman's chi-square from them and the Iman-Davenport
    F with their p-values; ``goodness`` is datasets x models, larger is better."""
    n, k = goodness.shape
    ranks = stats.rankdata(-goodness, axis=1)  # ties share their average rank
    average = ranks.mean(axis=0)
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(average ** 2) - k * (k + 1) ** 2 / 4)
    denominator = n * (k - 1) - chi2
    f_f = (n - 1) * chi2 / denominator if denominator > 0 else np.inf
    df1, df2 = k - 1, (k - 1) * (n - 1)
    return {"average_ranks": average, "chi2": float(chi2),
            "p_chi2": float(stats.chi2.sf(chi2, df1)),
            "f_f": float(f_f), "p_f_f": float(stats.f.sf(f_f, df1, df2)) if df2 > 0
            else float("nan"),
            "f_critical": float(stats.f.ppf(0.95, df1, df2)) if df2 > 0 else float("nan"),
            "n_datasets": n, "n_models": k}


def critical_difference(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """(q_alpha, CD) of the Nemenyi test: q_alpha is the studentized range quantile of
    k means over sqrt(2) (Demsar's table 5a), CD = q_alpha sqrt(k(k+1) / 6N)."""
    q = float(stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2))
    return q, q * float(np.sqrt(k * (k + 1) / (6 * n)))


def _pairwise_wilcoxon(goodness: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values of Wilcoxon's signed-rank test for every pair of columns
    (zero differences split between the signs; identical columns: p = 1)."""
    k = goodness.shape[1]
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    raw = []
    for a, b in pairs:
        diff = goodness[:, a] - goodness[:, b]
        if np.allclose(diff, 0):
            raw.append(1.0)
            continue
        # The exact null distribution without zeros or ties; else the normal
        # approximation with scipy's tie correction (scipy's own fallback for ties, a
        # permutation test, takes half a minute a pair).
        size = np.abs(diff)
        exact = bool(np.all(size > 0) and len(np.unique(size)) == len(size))
        with warnings.catch_warnings():  # few datasets: scipy warns about the normal
            warnings.simplefilter("ignore")  # approximation
            raw.append(float(stats.wilcoxon(goodness[:, a], goodness[:, b],
                                            zero_method="zsplit",
                                            method="exact" if exact else "asymptotic"
                                            ).pvalue))
    adjusted = holm(np.asarray(raw)) if raw else np.asarray([])
    out = np.ones((k, k))
    for (a, b), p in zip(pairs, adjusted, strict=True):
        out[a, b] = out[b, a] = p
    return out


def _pairwise_nemenyi(goodness: np.ndarray) -> np.ndarray:
    import scikit_posthocs as sp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sp.posthoc_nemenyi_friedman(goodness).to_numpy(dtype=float)


@dataclass
class Ranking:
    """One metric ranked across datasets."""

    metric: str
    label: str
    models: list[str]
    datasets: list[str]
    left_out: list[str]
    average_ranks: dict[str, float] = field(default_factory=dict)
    friedman: dict[str, float] = field(default_factory=dict)
    q_alpha: float = float("nan")
    cd: float = float("nan")
    posthoc: str = "wilcoxon_holm"
    p_values: pd.DataFrame | None = None
    weak: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "label": self.label, "datasets": self.datasets,
                "left_out": self.left_out, "average_ranks": self.average_ranks,
                "friedman": {k: v for k, v in self.friedman.items() if k != "average_ranks"},
                "q_alpha": self.q_alpha, "critical_difference": self.cd,
                "posthoc": self.posthoc, "weak": self.weak,
                "p_values": None if self.p_values is None else
                self.p_values.round(6).to_dict()}


def rank_metric(results: pd.DataFrame, metric: Metric, alpha: float = 0.05,
                posthoc: str = "wilcoxon_holm") -> Ranking | None:
    """Average ranks, Friedman, the critical difference and the pairwise tests of one
    metric (None when fewer than two datasets or models have complete values)."""
    matrix, left_out = dataset_matrix(results, metric.name)
    if matrix.shape[0] < 2 or matrix.shape[1] < 2:
        return None
    goodness = np.asarray(metric.goodness(matrix.to_numpy()))
    test = friedman(goodness)
    models = [str(m) for m in matrix.columns]
    q, cd = critical_difference(len(models), len(matrix), alpha)
    pairwise = _pairwise_nemenyi(goodness) if posthoc == "nemenyi" else \
        _pairwise_wilcoxon(goodness)
    return Ranking(metric.name, metric.label, models, [str(d) for d in matrix.index],
                   left_out, dict(zip(models, map(float, test["average_ranks"]), strict=True)),
                   test, q, cd, posthoc, pd.DataFrame(pairwise, index=models, columns=models),
                   weak=len(matrix) < FEW_DATASETS)


def bayes_signed_rank(x: np.ndarray, y: np.ndarray, rope: float, samples: int = 20_000,
                      seed: int = 0) -> dict[str, float]:
    """P(x worse than y), P(practically equivalent), P(x better), by baycomp's Bayesian
    signed-rank test (Benavoli et al. 2017); x, y larger is better, one per dataset."""
    from baycomp import SignedRankTest

    if np.allclose(x, y):  # the posterior is a point mass on zero difference
        return {"p_worse": 0.0, "p_equivalent": 1.0, "p_better": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        better, equivalent, worse = SignedRankTest.probs(
            np.asarray(x, float), np.asarray(y, float), rope=rope, nsamples=samples,
            random_state=seed)
    return {"p_worse": float(worse), "p_equivalent": float(equivalent),
            "p_better": float(better)}


def win_tie_loss(results: pd.DataFrame, control: str, alpha: float = 0.05) -> pd.DataFrame:
    """Per dataset and model: win, tie or loss against the control. A seed counts as a
    win (loss) when DeLong's test is significant at ``alpha`` and the model's AUC is
    higher (lower); the dataset is a win (loss) when more than half of its seeds are."""
    pooled = results[results["fold"].isna()]
    wide = pooled[pooled["metric"].isin(["auc_diff_vs_control", "p_vs_control"])].pivot_table(
        index=["dataset", "seed", "model"], columns="metric", values="value", sort=False)
    wide = wide.drop(index=control, level="model", errors="ignore")
    if wide.empty:
        return pd.DataFrame(columns=["dataset", "model", "outcome", "wins", "losses",
                                     "seeds", "auc_diff"])
    significant = wide["p_vs_control"] < alpha
    wide = wide.assign(win=significant & (wide["auc_diff_vs_control"] > 0),
                       loss=significant & (wide["auc_diff_vs_control"] < 0))
    per = wide.groupby(level=["dataset", "model"], sort=False).agg(
        wins=("win", "sum"), losses=("loss", "sum"), seeds=("win", "size"),
        auc_diff=("auc_diff_vs_control", "mean")).reset_index()
    per["outcome"] = np.select([per["wins"] * 2 > per["seeds"],
                                per["losses"] * 2 > per["seeds"]], ["win", "loss"], "tie")
    return per[["dataset", "model", "outcome", "wins", "losses", "seeds", "auc_diff"]]


def against_control(results: pd.DataFrame, control: str, metric: Metric, rope: float,
                    alpha: float = 0.05, samples: int = 20_000) -> pd.DataFrame:
    """Per model against the control: win / tie / loss over datasets, the sign test
    (ties split evenly, Demsar 2006) and the Bayesian signed-rank probabilities."""
    matrix, _ = dataset_matrix(results, metric.name)
    if control not in matrix or matrix.empty:
        return pd.DataFrame()
    goodness = pd.DataFrame(metric.goodness(matrix.to_numpy()), index=matrix.index,
                            columns=matrix.columns)
    wtl = win_tie_loss(results, control, alpha)
    rows = []
    for i, model in enumerate(m for m in matrix.columns if m != control):
        mine = wtl[(wtl["model"] == model) & wtl["dataset"].isin(matrix.index)]
        wins, losses = int((mine["outcome"] == "win").sum()), \
            int((mine["outcome"] == "loss").sum())
        ties = int((mine["outcome"] == "tie").sum())
        trials = wins + losses + 2 * (ties // 2)
        p_sign = float(stats.binomtest(wins + ties // 2, trials).pvalue) if trials else 1.0
        bayes = bayes_signed_rank(goodness[model].to_numpy(), goodness[control].to_numpy(),
                                  rope, samples, seed=i)
        rows.append({"model": model, "control": control, "wins": wins, "ties": ties,
                     "losses": losses, "p_sign": p_sign,
                     "mean_difference": float((matrix[model] - matrix[control]).mean()),
                     **bayes})
    return pd.DataFrame(rows)


def kendall_between(a: Ranking, b: Ranking) -> dict[str, float] | None:
    """Kendall's tau between two rankings' average ranks (the models both rank)."""
    common = [m for m in a.models if m in b.average_ranks]
    if len(common) < 3:
        return None
    ra = [a.average_ranks[m] for m in common]
    rb = [b.average_ranks[m] for m in common]
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return None
    tau = stats.kendalltau(ra, rb)
    return {"tau": float(tau.statistic), "p_value": float(tau.pvalue), "n_models": len(common)}


def pareto_front(accuracy: Ranking, fairness: Ranking) -> list[str]:
    """The models no other model beats on both average ranks (lower is better)."""
    common = [m for m in accuracy.models if m in fairness.average_ranks]
    points = np.array([[accuracy.average_ranks[m], fairness.average_ranks[m]]
                       for m in common])
    if not len(points):
        return []
    no_worse = (points[:, None, :] <= points[None, :, :]).all(axis=2)
    better = (points[:, None, :] < points[None, :, :]).any(axis=2)
    dominated = (no_worse & better).any(axis=0)
    return [m for m, d in zip(common, dominated, strict=True) if not d]


def all_rankings(results: pd.DataFrame, metrics: list[str], alpha: float,
                 posthoc: str) -> dict[str, Ranking]:
    """Every configured metric that can be ranked (complete on two or more datasets)."""
    found = {}
    for name in metrics:
        ranking = rank_metric(results, METRICS[name], alpha, posthoc)
        if ranking is not None:
            found[name] = ranking
    return found
