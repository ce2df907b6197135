"""The search's artifacts in the run directory: ``lda/`` (see :mod:`scorelab.runs.lda`).

``lda/candidates.parquet`` holds every candidate trained (with what it changed against
the reference and each tolerance's decision), ``lda/frontier.json`` the choices and their
verdicts, the certificate and the truth check. The chosen alternatives are models of the
run (``models/<name>/``, exported by the study like any model); their cards say so.
"""

from __future__ import annotations

from collections.abc import Sequence

from scorelab.config import ExperimentConfig
from scorelab.data.schema import Schema
from scorelab.lda.search import LdaSearch
from scorelab.models.cards import card_markdown
from scorelab.runs.contract import ModelCard
from scorelab.runs.lda import CANDIDATES_FILE, FRONTIER_FILE, LdaFrontier
from scorelab.runs.writer import RunWriter

__all__ = ["guarantee_sentence", "verdict_lines", "write_lda"]


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


def verdict_lines(search: LdaSearch, run_dir: str | None = None) -> list[str]:
    """What ``scorelab lda`` prints before the certificate: the search's verdict, each
    tolerance's decision with its reason (the choice's ``statement``, word for word) and
    what the chosen candidate changed, and how to use a chosen alternative of the run
    (every sentence from the choices ``frontier.json`` holds: the two cannot disagree)."""
    v = search.verdict
    if v["decision"] == "none":
        tolerances = ", ".join(f"{c['tolerance']:g}" for c in search.choices)
        lines = [(f"Verdict: none; no alternative to adopt or consider at any AUC "
                  f"tolerance ({tolerances}).")]
    else:
        lines = [(f"Verdict: {v['decision']} {v['candidate']} (at an AUC tolerance of "
                  f"{v['tolerance']:g}; the reason below).")]
    told: dict[str, None] = {}  # in the order of the tolerances
    for choice in search.choices:
        lines.append(choice["statement"])
        name = choice["chosen"]
        if name is not None and name not in told:
            told[name] = None
            lines.append(f"  {name} changed: {'; '.join(choice['changes'])}.")
    where = run_dir or "RUN"
    for name in told:
        lines.append(f"  {name} is a model of the run: scorelab score {where} "
                     f"applicants.csv --model {name} -o scores.csv; scorelab explain {where} "
                     f"--citizen ID --model {name}")
    return lines


def write_lda(writer: RunWriter, config: ExperimentConfig, search: LdaSearch,
              schema: Schema | None = None, run_models: Sequence[str] = ()) -> None:
    """Write ``lda/`` into the unpublished run folder, and mark each chosen alternative
    that is a model of the run (``run_models``) as one in its model card.

    ``schema`` is not needed any more (the chosen models are exported by the study) and
    is accepted for older callers.
    """
    s = search.setting
    chosen = list(dict.fromkeys(c["chosen"] for c in search.choices if c["chosen"]))
    in_run = [n for n in chosen if n in set(run_models)]
    for name in in_run:
        _mark_card(writer, search, name)
    writer.write_parquet(CANDIDATES_FILE, search.table)
    frontier = LdaFrontier(
        attribute=s.groups.primary, group=s.groups.labels[s.groups.primary],
        approval_rate=s.rate, reference=search.reference, choices=search.choices,
        stopping=search.stopping, guarantee=guarantee_sentence(search),
        thresholds=search.thresholds, truth=search.truth, proxies=search.proxies,
        saved_models=in_run, verdict=search.verdict, groups=s.groups.labels,
        candidates_trained=len(search.table))
    writer.write_json(FRONTIER_FILE, frontier.model_dump(mode="json"))


def _mark_card(writer: RunWriter, search: LdaSearch, name: str) -> None:
    """Say in ``models/<name>/card.json`` and ``card.md`` that the model is an
    alternative the search chose, what it changed against the reference and the
    search's decision at each tolerance that chose it (the study wrote the card as for
    any model; nothing is written when the run saved no models)."""
    path = writer.tmp / "models" / name / "card.json"
    if not path.is_file():
        return
    card = ModelCard.model_validate_json(path.read_text())
    choices = [c for c in search.choices if c["chosen"] == name]
    reference = search.reference["name"]
    said = [(f"Less discriminatory alternative to {reference} chosen by scorelab lda; "
             f"changed against {reference}: {'; '.join(choices[0]['changes'])}."),
            *(f"The search's decision at an AUC tolerance of {c['tolerance']:g}: "
              f"{c['decision']} ({c['reason']})." for c in choices)]
    card = card.model_copy(update={
        "intended_use": (f"A candidate replacement for {reference} with less disparity for "
                         f"{search.setting.groups.labels[search.setting.groups.primary]}. "
                         + card.intended_use),
        "limits": [*said, *card.limits]})
    writer.write_json(f"models/{name}/card.json", card.model_dump(mode="json"))
    writer.write_text(f"models/{name}/card.md", card_markdown(card.model_dump(mode="json")))
