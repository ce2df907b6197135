"""scorelab: a comparative credit-scoring framework.

Synthetic citizens whose true risk is known, the four families of forecasting methods
of Alguliyev & Alakbarova (2021) trained on the same splits, and accuracy reported
beside SHAP explanations and fairness metrics, with particular attention to age.
"""

from scorelab.exceptions import (
    ConfigError,
    DataError,
    OutputError,
    ScorelabError,
    UnknownModel,
)

# Everything but the exceptions is exported lazily: `import scorelab` (and so the
# `scorelab` command, which installs its signal handling first) loads no library.
_LAZY = {
    "ExperimentConfig": ("scorelab.config", "ExperimentConfig"),
    "apply_overrides": ("scorelab.config", "apply_overrides"),
    "config_from_dict": ("scorelab.config", "config_from_dict"),
    "dump_config": ("scorelab.config", "dump_config"),
    "load_config": ("scorelab.config", "load_config"),
    "SCHEMA": ("scorelab.data", "SCHEMA"),
    "Population": ("scorelab.data", "Population"),
    "build_data_card": ("scorelab.data", "build_data_card"),
    "counterfactual_twins": ("scorelab.data", "counterfactual_twins"),
    "generate_population": ("scorelab.data", "generate_population"),
    "read_population": ("scorelab.data", "read_population"),
    "write_population": ("scorelab.data", "write_population"),
    "generate_to_file": ("scorelab.study.population", "generate_to_file"),
    "population_for": ("scorelab.study.population", "population_for"),
    "run": ("scorelab.api", "run"),
    # run_benchmark, not benchmark: once imported, the subpackage scorelab.benchmark owns
    # that name
    "run_benchmark": ("scorelab.api", "benchmark"),
    "Run": ("scorelab.api", "Run"),
    "SavedModel": ("scorelab.api", "SavedModel"),
    "load_run": ("scorelab.api", "load_run"),
    "log_run": ("scorelab.api", "log_run"),
    "LoggedRun": ("scorelab.api", "LoggedRun"),
    "init_config": ("scorelab.api", "init_config"),
    "propose_config": ("scorelab.api", "propose_config"),
    "Onboarding": ("scorelab.api", "Onboarding"),
    "build_model": ("scorelab.models.registry", "build_model"),
    # explain_model, not explain: once imported, the subpackage scorelab.explain owns that name
    "explain_model": ("scorelab.explain.explainers", "explain"),
    "fairness_audit": ("scorelab.fairness.audit", "fairness_audit"),
    "FairnessAudit": ("scorelab.fairness.audit", "FairnessAudit"),
    "AgeSpec": ("scorelab.core.ages", "AgeSpec"),
    "ScoreScale": ("scorelab.core.scale", "ScoreScale"),
    "scale_from_config": ("scorelab.core.scale", "scale_from_config"),
    "Plan": ("scorelab.study.plan", "Plan"),
    "build_report": ("scorelab.report.render", "build_report"),
    "compare_runs": ("scorelab.report.compare", "compare_runs"),
    "load_table_population": ("scorelab.data.loaders", "load_table_population"),
    "list_datasets": ("scorelab.data.datasets", "list_datasets"),
    "score_applicants": ("scorelab.applicants.score", "score_applicants"),
    "explain_citizen": ("scorelab.applicants.explain", "explain_citizen"),
    "explain_applicant": ("scorelab.applicants.explain", "explain_applicant"),
    "save_model": ("scorelab.models.persist", "save_model"),
    "load_model": ("scorelab.models.persist", "load_model"),
    # serve_runs, not serve: once imported, the subpackage scorelab.serve owns that name
    "serve_runs": ("scorelab.api", "serve"),
}


def __getattr__(name: str):  # noqa: ANN202 - module-level lazy attribute (PEP 562)
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'scorelab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "OutputError",
    "ScorelabError",
    "UnknownModel",
    "__version__",
    *_LAZY,
]
