"""The model card as Markdown: what the model is (its family's own description), what
it saw, how well it did out of fold, which fairness checks it passed, and its limits
(Mitchell et al. 2019). A family's deliverable tables (a scorecard's points table, an
expert system's rules) come from the family itself
(:meth:`~scorelab.models.base.ScorelabClassifier.deliverable_tables`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["card_markdown"]


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
