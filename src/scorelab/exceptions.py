"""The small error hierarchy of scorelab.

Only the CLI turns these into one red line and a non-zero exit; library callers
get ordinary exceptions they can catch (each is also a ``ValueError``).
"""

from __future__ import annotations


class ScorelabError(Exception):
    """Base class of every error scorelab raises on purpose for a user mistake."""


class ConfigError(ScorelabError, ValueError):
    """The experiment config is missing, unreadable or invalid."""


class DataError(ScorelabError, ValueError):
    """A population or table cannot be used as asked."""


class OutputError(ScorelabError, ValueError):
    """An output path cannot be written (exists, or is not writable)."""


class UnknownModel(ScorelabError, KeyError):
    """A run has no saved model of that name (a ``KeyError``: a run's models are a
    mapping). Its message names the saved models."""

    def __str__(self) -> str:  # KeyError would quote the message as a repr
        return str(self.args[0]) if self.args else ""
