"""``report``, ``output`` and ``run``: what a run writes, where, and its time limit."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from scorelab.config.base import _Section

__all__ = ["Output", "Report", "RunLimits"]


class Report(_Section):
    """The rendered report."""

    formats: list[Literal["html", "md", "json"]] = Field(
        default_factory=lambda: ["html", "md", "json"], description="Report formats to write."
    )
    title: str = Field("scorelab study", description="Title of the report.")


class Output(_Section):
    """Where artifacts go."""

    runs_dir: Path = Field(Path("runs"), description="Parent folder of run directories.")
    save_models: Literal["final", "folds", "both", "none"] = Field(
        "both", description="Models saved under models/<name>/: the final model refitted on "
        "every citizen (scores new applicants), the fold models (score and explain any "
        "citizen of the run out of fold), both, or none.")


class RunLimits(_Section):
    """Resource guards of a run."""

    max_minutes: float | None = Field(
        None, gt=0.0, description="Stop the run (one line naming this key, nothing kept) once "
        "its wall time exceeds this many minutes; checked between stages and between fold "
        "fits. null = no limit.")
