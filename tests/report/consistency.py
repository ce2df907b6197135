"""Every value a report states more than once, collected from report.json, so a test can
assert that no two sections state different values for the same quantity.

Quantities: each model's AUC (wherever a table has an AUC column or a sentence says
"<model> (..., AUC x)"), each model's screen on each attribute (the fairness section's
table, the model cards, page one's worst ratio), and each model's approval rate under
the deciding policy (the credit-practice table, the appendix's decision table, the
model cards).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

LIGHT_OF_SCREEN = {"fail (significant)": "fail", "below the screen, not significant": "warn",
                   "pass": "pass"}


def blocks_of(report: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every block of the report with its section's id, details opened."""
    def walk(section: str, blocks: list[dict[str, Any]]) -> Iterator[tuple[str, dict]]:
        for b in blocks:
            yield section, b
            if b["kind"] == "details":
                yield from walk(section, b["blocks"])
    for s in report["sections"]:
        yield from walk(s["id"], s["blocks"])


def statements(report: dict[str, Any], models: list[str]) -> dict[tuple, set[tuple[str, str]]]:
    """quantity -> {(where, value)}; a consistent report has one value per quantity."""
    said: dict[tuple, set[tuple[str, str]]] = defaultdict(set)
    named = "|".join(re.escape(m) for m in sorted(models, key=len, reverse=True))
    auc_in_text = re.compile(rf"\b({named}) \((?:[^()]*?, )?AUC (\d\.\d{{3}})\b")
    for section, b in blocks_of(report):
        texts = [b.get("text"), b.get("summary"), b.get("title"), b.get("caption")]
        for t in filter(None, texts):
            for model, value in auc_in_text.findall(t):
                said[("auc", model)].add((section, value))
        if b["kind"] != "table" or not b["rows"]:
            continue
        columns = [c.lower() for c in b["columns"]]
        at = columns.index("model") if "model" in columns else 0
        for row in b["rows"]:
            first = row[at]["text"]
            if first not in models:
                continue
            for c, cell in zip(columns, row, strict=False):
                number = re.match(r"(\d\.\d{3})\b", cell["text"])
                if (c == "auc" or c.startswith("auc [")) and number:
                    said[("auc", first)].add((section, number[1]))
            if b.get("title", "") and b["title"].startswith("Four-fifths screen"):
                for c, cell in zip(b["columns"][1:], row[1:], strict=False):
                    if cell.get("status") and cell["status"] != "n/a":
                        said[("screen", first, c)].add((section, cell["status"]))
            if {"approved", "cut-off", "bad among approved"} <= set(columns) and \
                    "policy" not in columns:  # the appendix's table of the deciding policy
                said[("approval", first)].add((section, row[columns.index("approved")]["text"]))
            if "worst four-fifths ratio" in columns and any(  # page one: the screened attribute
                    c.startswith("groups compared") for c in columns):
                cell = row[columns.index("worst four-fifths ratio")]
                groups = next(row[i]["text"] for i, c in enumerate(columns)
                              if c.startswith("groups compared"))
                if cell.get("status") not in (None, "n/a") and ": " in groups:
                    said[("screen", first, groups.split(": ", 1)[0])].add(
                        (section, cell["status"]))
            if ("policy" in columns and "(decides)" in row[columns.index("policy")]["text"]):
                said[("approval", first)].add((section, row[columns.index("approved")]["text"]))
    for section, b in blocks_of(report):  # the model cards
        if b["kind"] != "details" or not b["summary"].startswith("Model card: "):
            continue
        model = b["summary"].removeprefix("Model card: ").split(" (")[0]
        facts = {r[0]["text"]: r[1]["text"] for r in b["blocks"][0]["rows"]}
        screens = facts.get("four-fifths screen", "")
        for part in filter(None, screens.split("; ")):
            attribute, screen = part.split(": ", 1)
            said[("screen", model, attribute)].add((f"{section}/card",
                                                    LIGHT_OF_SCREEN.get(screen, screen)))
        approves = re.match(r"approves (\S+),", facts.get("decisions", ""))
        if approves:
            said[("approval", model)].add((f"{section}/card", approves[1]))
    return said


def contradictions(report: dict[str, Any], models: list[str]) -> dict[tuple, set]:
    """The quantities stated with more than one value, and where."""
    return {q: where for q, where in statements(report, models).items()
            if len({value for _, value in where}) > 1}
