"""Populations: the synthetic citizen model, real tables and their checks, the schema,
data cards, files and the bundled datasets.

Imports the foundation and ``config`` (the population section); nothing above.
"""

from scorelab.core.ages import age_band_labels, age_bands
from scorelab.data.card import build_data_card, render_data_card_markdown
from scorelab.data.groups import group_column
from scorelab.data.io import read_population, write_population
from scorelab.data.schema import SOURCES, ColumnSpec, Schema
from scorelab.data.synthetic import (
    SCHEMA,
    Population,
    counterfactual_twins,
    draw_exogenous,
    generate_population,
)

__all__ = [
    "SCHEMA",
    "SOURCES",
    "ColumnSpec",
    "Population",
    "Schema",
    "age_band_labels",
    "age_bands",
    "build_data_card",
    "counterfactual_twins",
    "draw_exogenous",
    "generate_population",
    "group_column",
    "read_population",
    "render_data_card_markdown",
    "write_population",
]
