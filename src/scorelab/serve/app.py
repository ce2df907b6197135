"""The workbench's web app: Starlette routes rendering Jinja2 pages from run directories.

Every view is a GET at a citable URL whose query holds its whole state (a what-if's
edits, a cut-off proposal, a slice), so a link reproduces the view and ``evidence=1``
saves it as one self-contained HTML file stamped with the run's id, config hash and
data fingerprint. The one POST turns a pasted applicant row into such a URL. Errors are
pages with one line: an unknown id says which and what is valid (404), a damaged run
names its file (422), a bad what-if value is one line in place of the result (400).
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from scorelab.core.jsonable import jsonable
from scorelab.exceptions import DataError, ScorelabError
from scorelab.report.compare import COMPARED, compare_runs
from scorelab.report.context import ReportContext
from scorelab.report.render import render_html, report_data
from scorelab.runs.reader import RunData
from scorelab.serve.catalog import NotFound, RunsFolder
from scorelab.serve.views import cutoff_view, decision_flips, proposal_yaml, slice_view
from scorelab.serve.whatif import FLIP_SAMPLE, Case, Outcome, Sweep, Workbench, parse_edits

__all__ = ["LOOPBACK_HOSTS", "create_app"]

_log = logging.getLogger("scorelab.serve")
HERE = Path(__file__).parent
REPORT_CSS = HERE.parent / "report" / "templates" / "report.css"
#: The only files served outside run directories: the package's own assets.
STATIC = {"serve.js": (HERE / "static" / "serve.js", "text/javascript; charset=utf-8"),
          "serve.css": (HERE / "static" / "serve.css", "text/css; charset=utf-8"),
          "report.css": (REPORT_CSS, "text/css; charset=utf-8")}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Content security: scripts, styles and fetches from this server only, nothing framed.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
           "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store"}
MAX_FORM_BYTES = 65_536
TEXT_FILES = {".md": "text/markdown", ".csv": "text/csv", ".json": "application/json",
              ".yaml": "text/plain", ".txt": "text/plain", ".html": "text/html"}


class DamagedRun(Exception):
    """A run that fails its contract: the page names the file."""


class BadInput(Exception):
    """A value in the request the view cannot use (one line)."""


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("scorelab.serve", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["urlencode"] = lambda v: quote(str(v), safe="")
    return env


class _Server:
    """The state behind the routes: the runs folder, the workbench and the report cache."""

    def __init__(self, runs_dir: str | Path) -> None:
        self.folder = RunsFolder(runs_dir)
        self.bench = Workbench(self.run)
        self.env = _environment()
        self._reports: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def run(self, run_id: str) -> RunData:
        try:
            return self.folder.run(run_id)
        except DataError as exc:
            raise DamagedRun(str(exc)) from None

    # ------------------------------------------------------------------ rendering
    def page(self, request: Request, template: str, status: int = 200,
             run: RunData | None = None, **context: Any) -> Response:
        """A page, or with ``evidence=1`` the same page as a self-contained file."""
        evidence = None
        if request.query_params.get("evidence") == "1":
            css = REPORT_CSS.read_text() + "\n" + STATIC["serve.css"][0].read_text()
            evidence = {"css": Markup(css), "url": _without_evidence(request),
                        "saved": datetime.now(UTC).isoformat(timespec="seconds")}
        html = self.env.get_template(template).render(
            run=_run_facts(run) if run is not None else None, evidence=evidence,
            evidence_url=_evidence_url(request), **context)
        response = HTMLResponse(html, status_code=status)
        if evidence is not None:
            name = "-".join(p for p in request.url.path.strip("/").split("/") if p) or "runs"
            response.headers["Content-Disposition"] = (
                f'attachment; filename="scorelab-evidence-{_safe(name)}.html"')
        return response

    def fragment(self, template: str, status: int = 200, **context: Any) -> Response:
        return HTMLResponse(self.env.get_template(template).render(**context),
                            status_code=status)

    def report_html(self, run: RunData) -> str:
        """The run's report rendered in memory (the run directory is not written)."""
        key = f"{run.run_dir}:{run.manifest.get('run_id')}"
        with self._lock:
            if key in self._reports:
                return self._reports[key]
        ctx = ReportContext(run)
        html = render_html(report_data(run, ctx), ctx.figures)
        with self._lock:
            self._reports[key] = html
            while len(self._reports) > 4:
                self._reports.popitem(last=False)
        return html


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:120]


def _without_evidence(request: Request) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "evidence"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def _evidence_url(request: Request) -> str:
    query = [*[(k, v) for k, v in request.query_params.multi_items() if k != "evidence"],
             ("evidence", "1")]
    return f"{request.url.path}?{urlencode(query)}"


def _run_facts(run: RunData) -> dict[str, Any]:
    pop = run.study.population
    data = (f"{pop.n_citizens:,} synthetic citizens" if pop.source == "synthetic"
            else f"{pop.n_citizens:,} rows of {Path(pop.table).name if pop.table else 'a table'}")
    return {"id": run.run_dir.name, "study": run.study.name, "data": data,
            "config_hash": run.manifest.get("config_hash"),
            "fingerprint": run.manifest.get("data_fingerprint")}


def _error_page(server: _Server, request: Request, status: int, heading: str,
                message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    return server.page(request, "error.html.j2", status=status, heading=heading,
                       message=message)


def _guarded(server: _Server, view: Callable[[_Server, Request], Response]
             ) -> Callable[[Request], Response]:
    """A route that answers every failure with a page of one line, never a traceback."""

    @wraps(view)
    def endpoint(request: Request) -> Response:
        try:
            return view(server, request)
        except NotFound as exc:
            return _error_page(server, request, 404, "Not found", str(exc))
        except DamagedRun as exc:
            return _error_page(server, request, 422, "This run cannot be opened", str(exc))
        except (BadInput, ScorelabError) as exc:
            return _error_page(server, request, 400, "Cannot show this", str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug: one line here, the traceback in the log
            _log.exception("scorelab serve: %s failed", request.url.path)
            return _error_page(server, request, 500, "Internal error",
                               f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                               " (a bug in scorelab serve; the log has the details)")

    return endpoint


# ---------------------------------------------------------------------- views

def runs_view(server: _Server, request: Request) -> Response:
    q = request.query_params.get("q", "").strip()
    rows = server.folder.summaries()
    if q:
        words = q.lower().split()
        rows = [r for r in rows if all(w in " ".join(
            str(x) for x in (r.run_id, r.status, r.best_model, r.data)).lower()
            for w in words)]
    return server.page(request, "index.html.j2", runs=rows, q=q, root=str(server.folder.root))


def run_view(server: _Server, request: Request) -> Response:
    run_id = request.path_params["run_id"]
    run = server.run(run_id)
    board = run.leaderboard.set_index("model")
    families = {m.name: m.family for m in run.study.models}
    models = []
    for name in run.model_names:
        verdict = str(board.at[name, "four_fifths_verdict"]) \
            if "four_fifths_verdict" in board and pd.notna(board.at[name, "four_fifths_verdict"]) \
            else "no audit"
        models.append({"name": name, "family": families.get(name, ""),
                       "auc": _float(board.at[name, "auc"]),
                       "approval": _float(board.at[name, "approval_rate"])
                       if "approval_rate" in board else None,
                       "verdict": verdict, "verdict_class": verdict if verdict in (
                           "pass", "fail") else ""})
    ids = run.predictions["citizen_id"]
    others = [r.run_id for r in server.folder.summaries() if r.usable]
    inputs = run.model_manifest(run.model_names[0]).inputs if (
        run.run_dir / "models" / run.model_names[0] / "model.json").is_file() else []
    return server.page(request, "run.html.j2", run=run, title=run.study.title,
                       models=models, id_range=f"{ids.min()}-{ids.max()}", others=others,
                       header_hint=",".join(c.name for c in inputs[:6]) + ",...")


def report_view(server: _Server, request: Request) -> Response:
    run = server.run(request.path_params["run_id"])
    response = HTMLResponse(server.report_html(run))
    if request.query_params.get("evidence") == "1":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="scorelab-evidence-report-{_safe(run.run_dir.name)}.html"')
    return response


def file_view(server: _Server, request: Request) -> Response:
    path = server.folder.file(request.path_params["run_id"], request.path_params["path"])
    kind = TEXT_FILES.get(path.suffix)
    if kind is None:
        raise NotFound(f"'{path.name}' is not a file the workbench shows (text files only: "
                       f"{', '.join(sorted(TEXT_FILES))})")
    return Response(path.read_bytes(), media_type=kind)


def static_view(server: _Server, request: Request) -> Response:
    entry = STATIC.get(request.path_params["name"])
    if entry is None:
        raise NotFound(f"no asset '{request.path_params['name']}'")
    response = Response(entry[0].read_bytes(), media_type=entry[1])
    response.headers["Cache-Control"] = "max-age=300"
    return response


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _citizen_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise NotFound(f"citizen '{text}' is not a citizen id (ids are whole numbers)"
                       ) from None


def _case(server: _Server, request: Request) -> tuple[RunData, Case, str]:
    """The citizen or new applicant a what-if view is about, and its page's base URL."""
    run_id = request.path_params["run_id"]
    run = server.run(run_id)
    model = server.bench.model(run_id, request.query_params.get("model"))
    if "cid" in request.path_params:
        cid = _citizen_id(request.path_params["cid"])
        return run, server.bench.citizen(run_id, model, cid), \
            f"/runs/{quote(run_id)}/citizens/{cid}"
    values = {k[2:]: v for k, v in request.query_params.items() if k.startswith("a.")}
    if not values:
        raise BadInput("a new applicant needs its inputs (paste a row on the run's page)")
    row = pd.DataFrame({k: pd.Series([v if v != "" else None], dtype=object)
                        for k, v in values.items()})
    return run, server.bench.applicant(run_id, model, row), f"/runs/{quote(run_id)}/applicant"


def _edits(server: _Server, request: Request, case: Case) -> tuple[dict[str, str], set[str]]:
    names = {s.name for s in server.bench.inputs(case.run_id, case.model)}
    path = server.bench.age_path(case.run_id)
    if path is not None:
        names.add(path.column)
    return parse_edits(dict(request.query_params.items()), names)


def case_view(server: _Server, request: Request) -> Response:
    run, case, base = _case(server, request)
    bench = server.bench
    edits, unlocked = _edits(server, request, case)
    original = bench.letter(case)
    outcome, error = None, None
    try:  # unedited: the letter itself (one explanation per page, not two)
        outcome = bench.outcome(case, edits, unlocked) if edits or unlocked else \
            Outcome(original, original.score, original.approved, {})
    except ScorelabError as exc:
        error = str(exc)
    fields = []
    raw = case.raw.iloc[0]
    path = bench.age_path(case.run_id)
    specs = bench.inputs(case.run_id, case.model)
    if path is not None and path.column not in {s.name for s in specs} \
            and path.column in case.raw.columns:
        fields.append(_field(path.column, "numeric", raw[path.column], edits, unlocked,
                             actionable=False, low=path.low, high=path.high,
                             text="age (moves its proxies along the population's path)"))
    for s in specs:
        fields.append(_field(s.name, s.dtype, raw.get(s.name), edits, unlocked, s.actionable,
                             s.low, s.high, s.text, s.categories))
    base_fields = [(k, v) for k, v in request.query_params.multi_items()
                   if k.startswith("a.")]
    who = f"Citizen {case.citizen_id}" if case.citizen_id is not None else "New applicant"
    return server.page(request, "citizen.html.j2", run=run,
                       heading=f"{who}: {case.model}", model=case.model,
                       model_names=run.model_names, original=original, outcome=outcome,
                       error=error, fields=fields, base_fields=base_fields,
                       keep=[(k, v) for k, v in request.query_params.multi_items()
                             if k != "model" and k != "evidence"],
                       fragment_url=f"{base}/whatif", sweep_url=f"{base}/sweep",
                       sweep=None, sweep_error=None, sweep_svg="")


def _field(name: str, dtype: str, value: Any, edits: Mapping[str, str], unlocked: set[str],
           actionable: bool, low: float | None, high: float | None, text: str,
           categories: list[Any] | None = None) -> dict[str, Any]:
    original = "" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else (f"{value:g}" if isinstance(value, float) else str(value))
    return {"name": name, "dtype": dtype, "original": original,
            "value": edits.get(name, original), "locked": not actionable and name not in unlocked,
            "lockable": not actionable, "low": low, "high": high, "text": text,
            "categories": categories}


def whatif_fragment(server: _Server, request: Request) -> Response:
    _, case, _ = _case(server, request)
    try:
        edits, unlocked = _edits(server, request, case)
        outcome = server.bench.outcome(case, edits, unlocked)
    except ScorelabError as exc:
        return server.fragment("whatif_result.html.j2", status=400, error=str(exc),
                               outcome=None)
    return server.fragment("whatif_result.html.j2", error=None, outcome=outcome)


def whatif_json(server: _Server, request: Request) -> Response:
    _, case, _ = _case(server, request)
    edits, unlocked = _edits(server, request, case)
    return JSONResponse(jsonable(server.bench.outcome(case, edits, unlocked).as_dict()))


def sweep_fragment(server: _Server, request: Request) -> Response:
    _, case, _ = _case(server, request)
    try:
        edits, unlocked = _edits(server, request, case)
        sweep = server.bench.sweep(case, edits, unlocked)
    except ScorelabError as exc:
        return server.fragment("sweep.html.j2", status=400, sweep_error=str(exc),
                               sweep=None, sweep_svg="")
    return server.fragment("sweep.html.j2", sweep_error=None, sweep=sweep,
                           sweep_svg=Markup(sweep_svg(sweep)))


def sweep_json(server: _Server, request: Request) -> Response:
    _, case, _ = _case(server, request)
    edits, unlocked = _edits(server, request, case)
    return JSONResponse(jsonable(server.bench.sweep(case, edits, unlocked).as_dict()))


def sweep_svg(sweep: Sweep, width: int = 640, height: int = 240) -> str:
    """The score along age as a small inline SVG (hand-drawn: no plotting per request)."""
    left, right, top, bottom = 48, 12, 12, 32
    ages, scores = sweep.ages, sweep.scores
    lo = float(min(scores.min(), sweep.cutoff)) - 10
    hi = float(max(scores.max(), sweep.cutoff)) + 10
    span_x = max(float(ages[-1] - ages[0]), 1.0)

    def x(a: float) -> float:
        return left + (a - ages[0]) / span_x * (width - left - right)

    def y(s: float) -> float:
        return top + (hi - s) / (hi - lo) * (height - top - bottom)

    line = " ".join(f"{x(a):.1f},{y(s):.1f}" for a, s in zip(ages, scores, strict=True))
    here = float(np.interp(sweep.age, ages, scores))
    cut = y(sweep.cutoff)
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
         'role="img" aria-label="score by age">'),
        (f'<line x1="{left}" y1="{cut:.1f}" x2="{width - right}" y2="{cut:.1f}" '
         'stroke="#b42318" stroke-dasharray="5 4"/>'),
        f'<polyline fill="none" stroke="#0072B2" stroke-width="2" points="{line}"/>',
        f'<circle cx="{x(sweep.age):.1f}" cy="{y(here):.1f}" r="5" fill="#1a1a1a"/>',
        f'<text x="{left}" y="{height - 8}" font-size="12">{ages[0]:.0f}</text>',
        (f'<text x="{width - right}" y="{height - 8}" font-size="12" '
         f'text-anchor="end">age {ages[-1]:.0f}</text>'),
        (f'<text x="{left - 4}" y="{y(hi - 10) + 4:.1f}" font-size="12" '
         f'text-anchor="end">{hi - 10:.0f}</text>'),
        (f'<text x="{left - 4}" y="{y(lo + 10):.1f}" font-size="12" '
         f'text-anchor="end">{lo + 10:.0f}</text>'),
        (f'<text x="{width - right}" y="{cut - 4:.1f}" font-size="11" '
         f'text-anchor="end" fill="#b42318">cut-off {sweep.cutoff:.0f}</text>'),
        "</svg>"]
    return "".join(parts)


def citizens_lookup(server: _Server, request: Request) -> Response:
    run_id = request.path_params["run_id"]
    server.run(run_id)
    cid = request.query_params.get("cid", "").strip()
    query = {k: v for k, v in request.query_params.items() if k == "model"}
    target = f"/runs/{quote(run_id)}/citizens/{quote(cid, safe='')}"
    return RedirectResponse(target + (f"?{urlencode(query)}" if query else ""), 303)


async def applicant_post(request: Request) -> Response:
    """A pasted CSV row (header + one row) becomes the applicant view's URL."""
    body = await request.body()
    server: _Server = request.app.state.server
    if len(body) > MAX_FORM_BYTES:
        return _error_page(server, request, 413, "Too large",
                           f"the pasted row is over {MAX_FORM_BYTES:,} bytes")
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    run_id = request.path_params["run_id"]
    try:
        server.run(run_id)
        row = pd.read_csv(io.StringIO(form.get("row", "")), dtype=str,
                          keep_default_na=False, sep=None, engine="python")
    except (NotFound, DamagedRun) as exc:
        return _error_page(server, request, 404, "Not found", str(exc))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError) as exc:
        return _error_page(server, request, 400, "Cannot read the pasted row",
                           f"pasted applicant: not a CSV header line and one row "
                           f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    if len(row) != 1:
        return _error_page(server, request, 400, "Cannot read the pasted row",
                           f"pasted applicant: give a header line and exactly one row "
                           f"(got {len(row)} rows)")
    query = [("model", form.get("model", ""))] if form.get("model") else []
    query += [(f"a.{c}", str(row[c].iloc[0])) for c in row.columns]
    return RedirectResponse(f"/runs/{quote(run_id)}/applicant?{urlencode(query)}", 303)


def compare_lookup(server: _Server, request: Request) -> Response:
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    query = {k: v for k, v in request.query_params.items() if k in ("model", "model_b") and v}
    return RedirectResponse(f"/compare/{quote(a, safe='')}/{quote(b, safe='')}"
                            + (f"?{urlencode(query)}" if query else ""), 303)


def compare_view(server: _Server, request: Request) -> Response:
    a_id, b_id = request.path_params["a"], request.path_params["b"]
    a, b = server.run(a_id), server.run(b_id)
    model_a = server.bench.model(a_id, request.query_params.get("model"))
    model_b = server.bench.model(b_id, request.query_params.get("model_b") or model_a)
    show_all = request.query_params.get("all") == "1"
    label_a, label_b = f"{a_id}: {model_a}", f"{b_id}: {model_b}"
    if a_id == b_id:
        label_a, label_b = model_a, model_b
    rows = []
    board_a, board_b = a.leaderboard.set_index("model"), b.leaderboard.set_index("model")
    for key, words, _ in COMPARED:
        va = _float(board_a.at[model_a, key]) if key in board_a else None
        vb = _float(board_b.at[model_b, key]) if key in board_b else None
        if va is None and vb is None:
            continue
        differs = va != vb
        if show_all or differs:
            change = "-" if va is None or vb is None else f"{vb - va:+.3f}"
            rows.append([f"{model_a} / {model_b}", words, "-" if va is None else f"{va:.3f}",
                         "-" if vb is None else f"{vb:.3f}", change])
    headline = []
    if a_id != b_id:
        comparison = compare_runs([a.run_dir, b.run_dir])
        headline += comparison.notes
        for label, changes in comparison.config_changes.items():
            headline.append(f"config of {label}: " + ("; ".join(
                f"{k}: {x!r} → {y!r}" for k, x, y in changes) if changes else "the same"))
    population, _ = server.bench.population(a_id)
    flips = decision_flips(a, model_a, b, model_b, population)
    toggle = [(k, v) for k, v in request.query_params.multi_items() if k not in ("all",
                                                                                "evidence")]
    if not show_all:
        toggle.append(("all", "1"))
    return server.page(request, "compare.html.j2", run=a,
                       heading=f"Compare {label_a} with {label_b}", labels=[label_a, label_b],
                       metric_rows=rows, show_all=show_all, headline=headline, flips=flips,
                       run_b=b_id, model_b=model_b,
                       toggle_url=f"{request.url.path}?{urlencode(toggle)}")


def _cutoff_args(server: _Server, request: Request) -> dict[str, Any]:
    run_id = request.path_params["run_id"]
    run = server.run(run_id)
    model = server.bench.model(run_id, request.query_params.get("model"))
    run_cutoff = float(run.metrics["models"][model]["decision"]["cutoff_score"])
    text = request.query_params.get("cutoff", "")
    try:
        cutoff = float(text) if text else run_cutoff
        per_group = {k[4:]: float(v) for k, v in request.query_params.items()
                     if k.startswith("cut.") and v != ""}
    except ValueError:
        raise BadInput("cut-off: give a number of points (e.g. 600)") from None
    attribute = request.query_params.get("attribute") or None
    return {"run": run, "model": model, "cutoff": cutoff, "per_group": per_group,
            "attribute": attribute}


def _cutoff_context(server: _Server, request: Request) -> dict[str, Any]:
    args = _cutoff_args(server, request)
    run, model = args["run"], args["model"]
    population, _ = server.bench.population(run.run_dir.name)
    error, view = None, None
    try:
        view = cutoff_view(run, population, model, args["cutoff"], args["per_group"] or None,
                           args["attribute"])
    except ScorelabError as exc:
        error = str(exc)
        view = cutoff_view(run, population, model, args["cutoff"])
    groups = view.groups
    attributes = list(dict.fromkeys(groups["attribute"])) if len(groups) else []
    chosen = args["attribute"] if args["attribute"] in attributes else None
    scores = run.predictions.loc[run.predictions["model"].astype(str) == model, "score"]
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "evidence"]
    base = f"/runs/{quote(run.run_dir.name)}"
    return {"run": run, "model": model, "model_names": run.model_names, "view": view,
            "error": error, "cutoff": round(args["cutoff"]), "attribute": chosen,
            "attributes": attributes, "per_group": {k: int(v) for k, v in
                                                   args["per_group"].items()},
            "groups": groups.loc[groups["attribute"] == chosen, "group"].tolist()
            if chosen else [], "low": int(np.floor(scores.min())),
            "high": int(np.ceil(scores.max())), "fragment_url": f"{base}/cutoffs/result",
            "yaml_url": f"{base}/cutoffs.yaml?{urlencode(query)}"}


def cutoffs_view(server: _Server, request: Request) -> Response:
    context = _cutoff_context(server, request)
    return server.page(request, "cutoffs.html.j2", status=400 if context["error"] else 200,
                       **context)


def cutoffs_fragment(server: _Server, request: Request) -> Response:
    context = _cutoff_context(server, request)
    context.pop("run")
    return server.fragment("cutoffs_result.html.j2", status=400 if context["error"] else 200,
                           **context)


def cutoffs_yaml(server: _Server, request: Request) -> Response:
    args = _cutoff_args(server, request)
    population, _ = server.bench.population(args["run"].run_dir.name)
    view = cutoff_view(args["run"], population, args["model"], args["cutoff"],
                       args["per_group"] or None, args["attribute"])
    response = PlainTextResponse(proposal_yaml(args["run"], view),
                                 media_type="application/yaml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="cutoff-proposal-{_safe(args["model"])}.yaml"')
    return response


def slicer_view(server: _Server, request: Request) -> Response:
    run_id = request.path_params["run_id"]
    run = server.run(run_id)
    model = server.bench.model(run_id, request.query_params.get("model"))
    population, _ = server.bench.population(run_id)
    fairness = run.config["fairness"]
    attributes = [a for a in dict.fromkeys([*fairness["attributes"], *[
        x for inter in fairness["intersections"] for x in inter]]) if a in population.columns]
    chosen = request.query_params.getlist("attrs") or attributes[:1]
    error, view = None, None
    try:
        view = slice_view(run, population, model, chosen)
    except ScorelabError as exc:
        error = str(exc)
    return server.page(request, "slicer.html.j2", status=400 if error else 200, run=run,
                       model=model,
                       model_names=run.model_names, attributes=attributes, chosen=chosen,
                       view=view, error=error)


def age_view(server: _Server, request: Request) -> Response:
    run_id = request.path_params["run_id"]
    run = server.run(run_id)
    error, rates, words = None, {}, ""
    try:
        rates = server.bench.age_flip_rates(run_id)
        path = server.bench.age_path(run_id)
        words = path.words if path is not None else ""
    except ScorelabError as exc:
        error = str(exc)
    return server.page(request, "age.html.j2", run=run, rates=rates, error=error,
                       words=words, sample=FLIP_SAMPLE)


def not_found(server: _Server, request: Request) -> Response:
    raise NotFound(f"no page at '{request.url.path}' (the workbench's pages start at /)")


def create_app(runs_dir: str | Path, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The workbench over ``runs_dir``; ``allowed_hosts``: the Host names it answers
    (default: loopback only, which also stops DNS rebinding)."""
    server = _Server(runs_dir)

    def route(path: str, view: Callable[[_Server, Request], Response], name: str) -> Route:
        return Route(path, _guarded(server, view), methods=["GET", "HEAD"], name=name)

    routes = [
        route("/", runs_view, "runs"),
        route("/static/{name}", static_view, "static"),
        route("/runs/{run_id}", run_view, "run"),
        route("/runs/{run_id}/report", report_view, "report"),
        route("/runs/{run_id}/files/{path:path}", file_view, "file"),
        route("/runs/{run_id}/citizens", citizens_lookup, "citizens"),
        route("/runs/{run_id}/citizens/{cid}", case_view, "citizen"),
        route("/runs/{run_id}/citizens/{cid}/whatif", whatif_fragment, "citizen_whatif"),
        route("/runs/{run_id}/citizens/{cid}/sweep", sweep_fragment, "citizen_sweep"),
        route("/runs/{run_id}/applicant", case_view, "applicant"),
        route("/runs/{run_id}/applicant/whatif", whatif_fragment, "applicant_whatif"),
        route("/runs/{run_id}/applicant/sweep", sweep_fragment, "applicant_sweep"),
        route("/api/runs/{run_id}/citizens/{cid}/whatif", whatif_json, "api_whatif"),
        route("/api/runs/{run_id}/citizens/{cid}/sweep", sweep_json, "api_sweep"),
        route("/api/runs/{run_id}/applicant/whatif", whatif_json, "api_applicant_whatif"),
        route("/runs/{run_id}/cutoffs", cutoffs_view, "cutoffs"),
        route("/runs/{run_id}/cutoffs/result", cutoffs_fragment, "cutoffs_result"),
        route("/runs/{run_id}/cutoffs.yaml", cutoffs_yaml, "cutoffs_yaml"),
        route("/runs/{run_id}/slicer", slicer_view, "slicer"),
        route("/runs/{run_id}/age", age_view, "age"),
        route("/compare", compare_lookup, "compare_lookup"),
        route("/compare/{a}/{b}", compare_view, "compare"),
        Route("/runs/{run_id}/applicant", applicant_post, methods=["POST"]),
        route("/{rest:path}", not_found, "not_found"),
    ]
    hosts = allowed_hosts if allowed_hosts is not None else list(LOOPBACK_HOSTS)
    app = Starlette(routes=routes, middleware=[
        Middleware(_SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])
    app.state.server = server
    return app


class _SecurityHeaders:
    """Adds :data:`HEADERS` to every response (a plain ASGI middleware)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()
                         if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
