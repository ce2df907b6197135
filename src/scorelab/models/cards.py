"""What a saved model carries beside its file: its deliverable tables and its card.

A scorecard's points table (variable, bin, WoE, points) and binning table (information
value per variable) and an expert system's rule table are what a credit team signs off
and an examiner reads; the model card (Mitchell et al. 2019) says what the model is, what
it saw, how well it did out of fold, which fairness checks it passed, and its limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator

from scorelab.models.expert import SesameScore, SuiningPoints
from scorelab.models.logit import LogitScorecard

__all__ = ["FAMILY_DESCRIPTIONS", "card_markdown", "deliverable_tables"]

FAMILY_DESCRIPTIONS = {
    "expert": "an expert points system: fixed rules from the config, mapped to a "
              "probability by a calibrator fitted on the training citizens",
    "logit": "a logistic-regression scorecard on binned weight-of-evidence features, "
             "with points per bin",
    "trees": "a tree ensemble (LightGBM gradient boosting or random-forest mode)",
    "neural": "a multilayer perceptron on standardised inputs",
    "hybrid": "a hybrid of families, its inner stages cross-fitted without leakage",
    "mitigation": "a fairness-mitigation variant (fairlearn reductions or post-processing) "
                  "around a base model",
}


def deliverable_tables(model: BaseEstimator) -> dict[str, pd.DataFrame]:
    """The tables a model family delivers as CSV files: file name -> table."""
    if isinstance(model, LogitScorecard):
        summary = model.scorecard_.binning_process_.summary()
        binning = pd.DataFrame({
            "variable": summary["name"].astype(str),
            "dtype": summary["dtype"].astype(str),
            "selected": summary["selected"].astype(bool),
            "n_bins": pd.to_numeric(summary["n_bins"]),
            "information_value": pd.to_numeric(summary["iv"]),
            "gini": pd.to_numeric(summary["gini"]),
        }).sort_values("information_value", ascending=False, ignore_index=True)
        return {"points_table.csv": model.points_table(), "binning.csv": binning}
    if isinstance(model, SuiningPoints):
        rows = []
        for column, rule in model.rules_.items():
            if isinstance(rule, Mapping):
                rows += [{"column": column, "value": str(v), "points": float(p),
                          "per": "value"} for v, p in rule.items()]
            else:
                rows.append({"column": column, "value": "each unit", "points": float(rule),
                             "per": "unit"})
        start = {"column": "(start)", "value": "every citizen", "points": float(model.start),
                 "per": "citizen"}
        return {"rules.csv": pd.DataFrame([start, *rows],
                                          columns=["column", "value", "points", "per"])}
    if isinstance(model, SesameScore):
        rows = [{"factor": factor, "factor_weight": float(model.weights_[factor]),
                 "column": column, "direction": float(sign),
                 "points_per_sd": float(model.coefficients_[column]),
                 "mean": float(model.means_[column]), "sd": float(model.scales_[column])}
                for factor, columns in model.factors_.items()
                for column, sign in columns.items()]
        return {"rules.csv": pd.DataFrame(rows)}
    return {}


def card_markdown(card: Mapping[str, Any]) -> str:
    """The model card as Markdown (the same facts as card.json)."""
    lines = [f"# Model card: {card['name']}", "",
             f"**{card['family']} / {card['kind']}** ({card['role']}): {card['description']}.",
             "", "## Intended use", "", str(card["intended_use"]), "", "## Inputs", "",
             "| column | data source |", "|---|---|"]
    lines += [f"| {c['name']} | {c['source']} |" for c in card["inputs"]]
    lines += ["", "## Training data", ""]
    lines += [f"- {k}: {v}" for k, v in card["training_data"].items()]
    lines += ["", "## Out-of-fold metrics", ""]
    lines += [f"- {k}: {'n/a' if v is None else f'{v:.4g}'}"
              for k, v in card["out_of_fold_metrics"].items()]
    lines += ["", "## Fairness verdicts (four-fifths rule)", ""]
    lines += ([f"- {k}: {v}" for k, v in card["fairness_verdicts"].items()]
              or ["- not audited in this run"])
    lines += ["", "## Parameters", ""]
    lines += [f"- {k}: {v}" for k, v in card["parameters"].items()] or ["- defaults"]
    lines += ["", "## Limits", ""] + [f"- {x}" for x in card["limits"]]
    return "\n".join(lines) + "\n"
