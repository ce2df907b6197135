"""The search's artifacts in the run directory: ``lda/`` (see :mod:`scorelab.runs.lda`).

``lda/candidates.parquet`` holds every candidate trained, ``lda/frontier.json`` the
choices, the certificate and the truth check, and ``lda/models/<name>/`` each chosen
alternative refitted on every searched citizen, saved like any model of a run (skops or
LightGBM text, never pickle) with its ``model.json`` signature.
"""

from __future__ import annotations

from scorelab.config import ExperimentConfig
from scorelab.core.scale import scale_from_config
from scorelab.data.schema import Schema
from scorelab.engine import FitSample, fit_final
from scorelab.explain.explainers import explainer_kind
from scorelab.lda.disparity import approve_share
from scorelab.lda.engine import prepare_specs
from scorelab.lda.search import LdaSearch
from scorelab.models.persist import save_model
from scorelab.runs.contract import ModelManifest
from scorelab.runs.lda import CANDIDATES_FILE, FRONTIER_FILE, LdaFrontier
from scorelab.runs.writer import RunWriter, frame_fingerprint
from scorelab.study.export import input_signature

__all__ = ["guarantee_sentence", "write_lda"]


def guarantee_sentence(search: LdaSearch) -> str:
    """The certificate in one sentence, with the numbers of this search."""
    stop = search.stopping
    reason = {"bound": "the bound fell below lda.stop_bound",
              "budget": "the budget of candidates was spent",
              "time": "lda.max_minutes passed",
              "space": "every candidate of the space was trained"}[stop["stopped_because"]]
    checks = len(stop["history"])
    if stop["stopped_because"] == "space":
        return (f"Every one of the {stop['space_size']} candidates of the space was "
                "trained, so further search of this space can find nothing more; models "
                "outside the space were not searched.")
    return (f"After {stop['history'][-1]['candidates']} of {stop['space_size']} candidates "
            f"(stopped because {reason}): with probability at least {stop['confidence']:g}, "
            f"simultaneously at all {checks} check(s) of the search, one more batch of "
            f"{stop['batch_size']} candidates drawn uniformly from the same space would "
            f"reduce the best serving candidate's out-of-fold |1 - AIR| by at most "
            f"{stop['bound']:.4f} in expectation (target {stop['stop_bound']:g}). The bound "
            "is about disparity as measured on this population and about the space "
            "searched; it says nothing of the true disparity (the truth check looks at "
            "that) nor of models outside the space.")


def write_lda(writer: RunWriter, config: ExperimentConfig, search: LdaSearch,
              schema: Schema) -> None:
    """Write ``lda/`` into the unpublished run folder."""
    s = search.setting
    chosen = list(dict.fromkeys(c["chosen"] for c in search.choices if c["chosen"]))
    models = prepare_specs(config, [search.specs[n] for n in chosen], schema)
    finals = (fit_final(models, s.frame, s.y, config.evaluation.n_jobs,
                        sample=FitSample.of(config.compute.sample_size, config.seed)) if models else {})
    fingerprint = frame_fingerprint(s.frame)
    for m in models:
        base = f"lda/models/{m.name}"
        files = [p.relative_to(writer.tmp).as_posix()
                 for p in save_model(finals[m.name], writer.path(f"{base}/final.skops"))]
        manifest = ModelManifest(
            name=m.name, family=m.spec.family, kind=m.kind, role=m.role, format="skops",
            final=files[0], folds={}, boosters=[p for p in files if p.endswith(".txt")],
            inputs=input_signature(s.frame, m.columns, schema),
            cutoff_score=_cutoff(config, search, m.name),
            explainer=explainer_kind(finals[m.name]), training_fingerprint=fingerprint)
        writer.write_json(f"{base}/model.json", manifest)
    writer.write_parquet(CANDIDATES_FILE, search.table)
    frontier = LdaFrontier(
        attribute=s.groups.primary, group=s.groups.labels[s.groups.primary],
        approval_rate=s.rate, reference=search.reference, choices=search.choices,
        stopping=search.stopping, guarantee=guarantee_sentence(search),
        thresholds=search.thresholds, truth=search.truth, proxies=search.proxies,
        saved_models=[m.name for m in models], groups=s.groups.labels,
        candidates_trained=len(search.table))
    writer.write_json(FRONTIER_FILE, frontier.model_dump(mode="json"))


def _cutoff(config: ExperimentConfig, search: LdaSearch, name: str) -> float:
    """The score from which the alternative approves the reference's approval rate (its
    lowest approved out-of-fold score)."""
    points = scale_from_config(config.scale).points(search.oof[name])
    approved = approve_share(search.oof[name], search.setting.rate)[0]
    return float(points[approved].min()) if approved.any() else float(points.max())
