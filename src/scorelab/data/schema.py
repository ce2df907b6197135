"""Column schema: every column's data source, kind of indicator and role.

The five sources are the paper's (section 4, fig. 1); the two kinds are its direct
(measurable) and indirect (vague) indicators. The role says what a column may be used
for: only ``feature`` columns are model inputs by default.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from scorelab.core.jsonable import dumps

Source = Literal["administrative", "personal", "business", "organisation", "webspace", "none"]
Kind = Literal["direct", "indirect", "none"]
Role = Literal["id", "feature", "protected", "prohibited", "target", "truth", "date"]

SOURCES: tuple[str, ...] = ("administrative", "personal", "business", "organisation", "webspace")
ROLES: tuple[str, ...] = ("id", "feature", "protected", "prohibited", "target", "truth",
                          "date")
SCHEMA_METADATA_KEY = b"scorelab.schema"


@dataclass(frozen=True)
class ColumnSpec:
    """What one column is: where it comes from, how measurable it is, what it may do."""

    name: str
    source: Source
    kind: Kind
    role: Role
    description: str


@dataclass(frozen=True)
class Schema:
    """An ordered set of column specs with look-ups by role and by name."""

    columns: tuple[ColumnSpec, ...]

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def with_role(self, *roles: str) -> list[str]:
        """Names of the columns whose role is one of ``roles``, in schema order."""
        return [c.name for c in self.columns if c.role in roles]

    @property
    def target(self) -> str:
        (name,) = self.with_role("target")
        return name

    def to_json(self) -> str:
        return dumps([asdict(c) for c in self.columns], indent=None)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        return cls(tuple(ColumnSpec(**d) for d in json.loads(text)))
