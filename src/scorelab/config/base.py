"""What every config section shares: frozen, no unknown key, no NaN or infinity."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from scorelab.core.numeric import MAX_SEED

__all__ = ["MAX_SEED", "SCHEMA_VERSION", "cross_error"]

SCHEMA_VERSION = 1

Probability = float  # documented alias; bounds are set per field with ge/le


class _Section(BaseModel):
    # No NaN or infinity anywhere: a cut-off of .inf or a shift of .nan is a typo that
    # would otherwise surface after fitting, as a silent all-rejected or all-NaN result.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def cross_error(message: str) -> PydanticCustomError:
    """A validation error whose message names its own keys (a rule across fields or
    sections): shown as it is, without the location pydantic would prefix."""
    return PydanticCustomError("cross_section", message)  # type: ignore[arg-type]
