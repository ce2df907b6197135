"""The report's building blocks: number formatting and plain blocks (text, tables,
figures, collapsed details) that both the HTML and the Markdown renderers read.

A block is a small JSON-ready dict, so ``report.json`` holds exactly what the pages show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scorelab.core.messages import one_line

__all__ = ["LIGHTS", "Section", "bullets", "details", "figure", "figures", "finite", "fmt",
           "fmt_p", "get", "interval", "light", "link", "md_escape", "pct", "records", "status_of",
           "table", "text", "words"]

LIGHTS = {"pass": "● pass", "warn": "▲ warn", "fail": "■ fail", "n/a": "– n/a"}


# --------------------------------------------------------------------------- numbers

def finite(value: Any) -> bool:
    try:
        return value is not None and not isinstance(value, bool) and math.isfinite(
            float(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, spec: str = ".3f") -> str:
    """A number for a table cell; '-' for None/NaN; other values as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) and spec == ".3f":
        return f"{int(value):,}"
    if finite(value):
        return format(float(value), spec)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return str(value)


def pct(value: Any, digits: int = 1) -> str:
    return fmt(value, f".{digits}%")


def fmt_p(p: Any) -> str:
    """A p-value as people write it: ``p < 0.001`` or ``p = 0.042``."""
    if not finite(p):
        return "-"
    return "p < 0.001" if float(p) < 0.001 else f"p = {float(p):.3f}"


def interval(value: Any, low: Any, high: Any, spec: str = ".3f") -> str:
    if not finite(low) or not finite(high):
        return fmt(value, spec)
    return f"{fmt(value, spec)} [{fmt(low, spec)}, {fmt(high, spec)}]"


def words(name: Any) -> str:
    """A snake_case key as words for a header (``worst_approval_ratio`` -> ``worst
    approval ratio``); names of models and columns are left as they are elsewhere."""
    return str(name).replace("_", " ")


def md_escape(text: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes, tags, code spans or newlines."""
    s = str(text)
    for ch in ("\\", "|", "<", ">", "`", "*", "[", "]"):
        s = s.replace(ch, "\\" + ch)
    return one_line(s)


# --------------------------------------------------------------------------- lookups

def get(mapping: Any, *keys: str, default: Any = None) -> Any:
    """``mapping[k1][k2]...`` or ``default`` when any level is missing."""
    for key in keys:
        if not isinstance(mapping, Mapping) or key not in mapping:
            return default
        mapping = mapping[key]
    return mapping


def records(value: Any) -> list[dict[str, Any]]:
    """A list of row dicts from a list of dicts or a DataFrame (anything else: none)."""
    if isinstance(value, pd.DataFrame):
        return value.to_dict("records")
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def status_of(value: Any) -> str:
    """A verdict as pass / warn / fail / n/a (``not assessed`` is n/a)."""
    s = str(value).lower()
    return s if s in ("pass", "warn", "fail") else "n/a"


# --------------------------------------------------------------------------- blocks

def text(body: str) -> dict[str, Any]:
    return {"kind": "text", "text": body}


def bullets(items: Sequence[str], title: str | None = None) -> dict[str, Any]:
    return {"kind": "list", "title": title, "items": [str(i) for i in items]}


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None,
          align: Sequence[str] | None = None, caption: str | None = None,
          csv: str | None = None) -> dict[str, Any]:
    """A table block; a cell is text, ``{"text": ..., "status": pass|warn|fail|n/a}`` or a
    :func:`link`.

    ``csv`` names the file under ``tables/`` that holds the full table, when the block
    shows a part of it.
    """
    cells = [[c if isinstance(c, dict) else {"text": str(c)} for c in row] for row in rows]
    if align is None:
        align = ["left"] + ["right"] * (len(columns) - 1)
    return {"kind": "table", "title": title, "caption": caption, "columns": list(columns),
            "align": list(align), "rows": cells, "csv": csv}


def figure(key: str, title: str) -> dict[str, Any]:
    return {"kind": "figure", "key": key, "title": title}


def figures(*blocks: dict[str, Any]) -> dict[str, Any]:
    """Figures side by side (two per row on a wide page, one on a narrow one)."""
    return {"kind": "figures", "items": list(blocks)}


def details(summary: str, blocks: Sequence[dict[str, Any]],
            volatile: bool = False, anchor: str | None = None) -> dict[str, Any]:
    """Blocks collapsed under a one-line summary (HTML ``<details>``). ``volatile``
    blocks (hashes, versions) are left out of the Markdown, which must diff cleanly;
    ``anchor`` is the HTML id a link elsewhere in the report may point to (the browser
    opens the details when it is followed)."""
    block = {"kind": "details", "summary": summary, "blocks": list(blocks),
             "volatile": volatile}
    return block | ({"anchor": anchor} if anchor else {})


def link(label: str, anchor: str) -> dict[str, str]:
    """A table cell that links to ``anchor`` elsewhere in the report (plain text in the
    Markdown)."""
    return {"text": label, "href": f"#{anchor}"}


def light(status: str, detail: str = "") -> dict[str, str]:
    status = status if status in LIGHTS else "n/a"
    return {"text": f"{LIGHTS[status]} {detail}".strip(), "status": status}


@dataclass
class Section:
    """One numbered section: an auditor's summary paragraph, then its blocks."""

    id: str
    title: str
    summary: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    number: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "title": self.title,
                "summary": self.summary, "blocks": self.blocks}
