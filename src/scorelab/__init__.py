"""scorelab: a comparative credit-scoring framework.

Synthetic citizens whose true risk is known, the four families of forecasting methods
of Alguliyev & Alakbarova (2021) trained on the same splits, and accuracy reported
beside SHAP explanations and fairness metrics, with particular attention to age.
"""

from scorelab.config import ExperimentConfig, config_from_dict, dump_config, load_config
from scorelab.data import (
    SCHEMA,
    Population,
    build_data_card,
    counterfactual_twins,
    generate_population,
    read_population,
    write_population,
)
from scorelab.exceptions import ConfigError, DataError, OutputError, ScorelabError
from scorelab.generate import generate_to_file

__version__ = "0.1.0"

__all__ = [
    "SCHEMA",
    "ConfigError",
    "DataError",
    "ExperimentConfig",
    "OutputError",
    "Population",
    "ScorelabError",
    "__version__",
    "build_data_card",
    "config_from_dict",
    "counterfactual_twins",
    "dump_config",
    "generate_population",
    "generate_to_file",
    "load_config",
    "read_population",
    "write_population",
]
