"""scorelab: a comparative credit-scoring framework.

Synthetic citizens whose true risk is known, the four families of forecasting methods
of Alguliyev & Alakbarova (2021) trained on the same splits, and accuracy reported
beside SHAP explanations and fairness metrics, with particular attention to age.
"""

from scorelab.config import (
    ExperimentConfig,
    apply_overrides,
    config_from_dict,
    dump_config,
    load_config,
)
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
from scorelab.generate import generate_to_file, population_for

# The heavier layers are exported lazily, so `import scorelab` stays light.
_LAZY = {
    "run": ("scorelab.api", "run"),
    "Run": ("scorelab.api", "Run"),
    "SavedModel": ("scorelab.api", "SavedModel"),
    "load_run": ("scorelab.api", "load_run"),
    "build_model": ("scorelab.models.registry", "build_model"),
    "explain": ("scorelab.explain.explainers", "explain"),
    "fairness_audit": ("scorelab.fairness.audit", "fairness_audit"),
    "build_report": ("scorelab.report.render", "build_report"),
    "compare_runs": ("scorelab.report.compare", "compare_runs"),
    "load_table_population": ("scorelab.data.loaders", "load_table_population"),
    "list_datasets": ("scorelab.datasets", "list_datasets"),
    "score_applicants": ("scorelab.scoring", "score_applicants"),
    "explain_citizen": ("scorelab.letters", "explain_citizen"),
    "explain_applicant": ("scorelab.letters", "explain_applicant"),
    "save_model": ("scorelab.models.persist", "save_model"),
    "load_model": ("scorelab.models.persist", "load_model"),
}


def __getattr__(name: str):  # noqa: ANN202 - module-level lazy attribute (PEP 562)
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'scorelab' has no attribute {name!r}")

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
    "apply_overrides",
    "build_data_card",
    "config_from_dict",
    "counterfactual_twins",
    "dump_config",
    "generate_population",
    "generate_to_file",
    "load_config",
    "population_for",
    *_LAZY,
    "read_population",
    "write_population",
]
