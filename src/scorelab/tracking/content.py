"""What a run logs to MLflow, read from its run directory: plain dictionaries, no MLflow.

Every value comes from a validated artifact (``metrics.json``, ``fairness.json``,
``validity.json``, the manifest, ``study.json`` and the resolved config), so the numbers
in MLflow are the run directory's numbers; nothing is recomputed. A number that the run
does not have (no fairness stage, no costs, an undefined interval end) is not logged:
MLflow shows no value rather than a NaN.

The parent run (the study) gets the flattened resolved config as parameters, the
oracle AUC and the validity counts of a synthetic run as metrics; each child run (a
model) gets the model's own parameters, family, kind and role, and its metrics:

========================================  =============================================
metric                                    from
========================================  =============================================
``auc``, ``ks``, ``brier``, ``ece``, ...  ``metrics.json`` ``models.<m>.observed``
``<metric>_low``, ``<metric>_high``       ``metrics.json`` ``models.<m>.intervals``
``auc_true``, ``oracle_ratio``            ``metrics.json`` (synthetic runs)
``cutoff_score``                          ``metrics.json`` ``models.<m>.decision``
``expected_cost`` (and its interval)      ``metrics.json`` ``practice`` (with costs)
``worst_approval_ratio``                  ``fairness.json``: lowest four-fifths ratio of
                                          any audited attribute (observed outcome)
``worst_equalized_odds_difference``       ``fairness.json``: the largest
``age_approval_young``, ``..._rest``,     ``fairness.json`` ``models.<m>.age``
``age_approval_ratio``, ``age_gap``,
``age_score_gap``
``age_gap_decomposition.<part>``          ``fairness.json`` ``models.<m>.age.decomposition``
========================================  =============================================
"""

from __future__ import annotations

import math
import re
from typing import Any

from scorelab import __version__
from scorelab.core.jsonable import dumps
from scorelab.runs import RunData

__all__ = ["MAX_PARAM_CHARS", "flatten", "model_metrics", "model_params", "model_tags",
           "study_metrics", "study_params", "study_tags"]

#: MLflow keeps a parameter value of at most this many characters (a longer one is cut,
#: ending in "...").
MAX_PARAM_CHARS = 6000
#: A key MLflow accepts on every platform: letters, digits, _ - . / and spaces.
_KEY = re.compile(r"^[A-Za-z0-9_\-. /]+$")
#: The age-gap decomposition's parts that are numbers of points (fairness.json).
DECOMPOSITION_PARTS = ("total", "true_risk", "response_beyond_true_risk", "proxy",
                       "label_bias", "residual", "unexplained", "proxy_share_of_unexplained")
#: Tag names (prefixed: MLflow reserves ``mlflow.``).
TAG_PREFIX = "scorelab."


def _text(value: Any) -> str:
    """A parameter's value as text: strings as they are, the rest as JSON."""
    text = value if isinstance(value, str) else dumps(value, indent=None)
    return text if len(text) <= MAX_PARAM_CHARS else text[:MAX_PARAM_CHARS - 3] + "..."


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested mappings and lists of mappings as dotted keys (``models.0.params.C``), the
    keys of the config's overrides; a mapping whose keys MLflow would refuse (a rule
    table's values) stays one JSON value."""
    if isinstance(value, dict) and value and all(
            isinstance(k, str) and _KEY.match(k) and ".." not in k for k in value):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) \
            and prefix:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}"))
        return out
    return {prefix or "value": _text(value)}


def _numbers(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The finite numbers of ``values`` (booleans and text left out)."""
    return {f"{prefix}{k}": float(v) for k, v in values.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}


# --------------------------------------------------------------------------- the study


def study_params(run: RunData) -> dict[str, str]:
    """The flattened resolved config (``config.resolved.yaml``)."""
    return flatten(run.config)


def study_metrics(run: RunData) -> dict[str, float]:
    """The study's numbers: citizens, default rate and, on a synthetic run, the oracle
    AUC and the validity counts (checks of the age analyses against the planted truth)."""
    out = _numbers({"n_citizens": run.metrics.get("n_citizens"),
                    "default_rate": run.metrics.get("default_rate")})
    out.update(_numbers(run.metrics.get("oracle") or {}, "oracle_"))
    if run.validity is not None:
        out.update(_numbers({k: run.validity[k] for k in ("n_checks", "n_passed", "n_failed")},
                            "validity_"))
    return out


def study_tags(run: RunData) -> dict[str, str]:
    """Run id, config hash, data fingerprint, scorelab and format version, the study's
    name and the run directory (the link back to everything MLflow does not hold)."""
    m = run.manifest
    return {f"{TAG_PREFIX}{k}": str(v) for k, v in (
        ("run_id", m["run_id"]), ("config_hash", m["config_hash"]),
        ("data_fingerprint", m["data_fingerprint"]),
        ("scorelab_version", m["versions"].get("scorelab", __version__)),
        ("format_version", m["format_version"]), ("study", run.study.name),
        ("run_dir", run.run_dir.resolve().as_uri()), ("seed", m["seed"]),
        ("population", run.study.population.source))}


# --------------------------------------------------------------------------- a model


def _model_info(run: RunData, name: str) -> Any:
    return next(m for m in run.study.models if m.name == name)


def model_params(run: RunData, name: str) -> dict[str, str]:
    """The model's own parameters (as the config gave them), its family, kind, role,
    dropped inputs and number of inputs."""
    info = _model_info(run, name)
    out = {"model": name, "family": info.family, "kind": info.kind, "role": info.role,
           "n_inputs": str(len(info.inputs)),
           "dropped_features": _text(list(info.dropped_features))}
    for key, value in flatten(info.params).items() if info.params else ():
        out[f"params.{key}" if key in out else key] = value
    return out


def model_metrics(run: RunData, name: str) -> dict[str, float]:
    """Accuracy with its intervals, the decision and its cost, and fairness (see the
    module's table)."""
    entry = run.metrics["models"][name]
    out = _numbers(entry["observed"])
    for metric, ends in entry["intervals"].items():
        out.update(_numbers({f"{metric}_low": ends[0], f"{metric}_high": ends[1]}))
    out.update(_numbers({"auc_true": (entry.get("true_outcome") or {}).get("auc"),
                         "oracle_ratio": entry.get("oracle_ratio"),
                         "cutoff_score": entry["decision"].get("cutoff_score")}))
    out.update(_cost(run, name))
    out.update(_fairness(run, name))
    return out


def _cost(run: RunData, name: str) -> dict[str, float]:
    """The expected cost of the study's decision policy, with its interval (costs set)."""
    practice = run.metrics.get("practice") or {}
    policies = ((practice.get("models") or {}).get(name) or {}).get("policies") or {}
    chosen = policies.get(practice.get("policy"), policies.get("approval_rate")) or {}
    low, high = (chosen.get("expected_cost_interval") or [None, None])[:2]
    return _numbers({"expected_cost": chosen.get("expected_cost"), "expected_cost_low": low,
                     "expected_cost_high": high})


def _fairness(run: RunData, name: str) -> dict[str, float]:
    """Worst four-fifths ratio and equalized-odds difference over the audited attributes
    (observed outcome), the young/rest approval and the age-gap decomposition."""
    entry = (run.fairness or {}).get("models", {}).get(name)
    if not entry:
        return {}
    observed = [d for d in entry.get("disparities") or [] if d.get("outcome") == "observed"]
    ratios = _numbers({str(i): d.get("worst_approval_ratio") for i, d in enumerate(observed)})
    odds = _numbers({str(i): d.get("equalized_odds_difference")
                     for i, d in enumerate(observed)})
    out = _numbers({"worst_approval_ratio": min(ratios.values(), default=None),
                    "worst_equalized_odds_difference": max(odds.values(), default=None)})
    age = entry.get("age") or {}
    out.update(_numbers({"age_approval_young": age.get("approval_young"),
                         "age_approval_rest": age.get("approval_rest"),
                         "age_approval_ratio": age.get("approval_ratio"),
                         "age_gap": age.get("approval_gap"),
                         "age_score_gap": age.get("score_gap")}))
    parts = age.get("decomposition") or {}
    out.update(_numbers({p: parts.get(p) for p in DECOMPOSITION_PARTS},
                        "age_gap_decomposition."))
    for part, ends in (parts.get("intervals") or {}).items():
        if isinstance(ends, list | tuple) and len(ends) == 2:
            out.update(_numbers({f"{part}_low": ends[0], f"{part}_high": ends[1]},
                                "age_gap_decomposition."))
    return out


def model_tags(run: RunData, name: str) -> dict[str, str]:
    """The study's tags and the model's name, family, kind and role."""
    info = _model_info(run, name)
    return {**study_tags(run), f"{TAG_PREFIX}model": name, f"{TAG_PREFIX}family": info.family,
            f"{TAG_PREFIX}kind": info.kind, f"{TAG_PREFIX}role": info.role}
