"""One-line messages: how user text and errors are quoted in what scorelab prints.

Every message a user reads is one line (a newline inside a column name cannot start a
second one) of bounded length (a 50 MB value gives a short line, not a 50 MB one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["EXCERPT_CHARS", "MAX_PROBLEMS", "excerpt", "one_line", "problems_line",
           "row_list"]

#: User text quoted in a message is cut to this many characters.
EXCERPT_CHARS = 60
#: Rows listed by :func:`row_list` (the count says how many there are in all).
ROWS_SHOWN = 5


def one_line(text: Any, limit: int | None = None) -> str:
    """``text`` (or an exception's message) with every run of white space made one space,
    cut to ``limit`` characters when given."""
    line = " ".join(str(text).split())
    if limit is not None and len(line) > limit:
        return f"{line[:limit]}... ({len(line) - limit:,} more characters)"
    return line


#: Problems of one config listed in its error line at most (the rest are counted).
MAX_PROBLEMS = 5


def problems_line(problems: Sequence[str], limit: int = MAX_PROBLEMS) -> str:
    """Several problems found in one pass as one line: each as it is, joined by '; ',
    the first ``limit`` of them and how many more there are."""
    shown = [one_line(p) for p in problems[:limit]]
    if len(problems) > limit:
        shown.append(f"... ({len(problems) - limit} more problems)")
    return "; ".join(shown)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as short one-line text for a message (text as is, others as repr)."""
    text = " ".join((value if isinstance(value, str) else repr(value)).split())
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def row_list(mask: np.ndarray) -> str:
    """The rows where ``mask`` holds, for a message: 'rows 3, 17 (2 of 40)'.

    Rows count from 1 (the first applicant), as a table's own citizen ids do without an
    id column; at most a few are listed, the count says how many there are.
    """
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask) + 1
    shown = ", ".join(str(int(r)) for r in rows[:ROWS_SHOWN])
    more = ", ..." if rows.size > ROWS_SHOWN else ""
    return f"row{'s' if rows.size > 1 else ''} {shown}{more} ({rows.size:,} of {mask.size:,})"
