"""Render a run directory as ``report.html``, ``report.md`` and ``report.json``.

The report never trains anything: it reads the run directory through
:func:`scorelab.runs.load_run`, turns it into sections of plain blocks (text, tables,
figures, collapsed details; see :mod:`scorelab.report.sections`) and renders the same
blocks twice: HTML (one self-contained file, Jinja2 with autoescaping, inline SVG
figures) and Markdown (for terminals and diffs, no figures, no timestamps or paths).
The blocks themselves go to ``report.json``; the full tables behind the shortened ones
go to ``tables/*.csv`` in the run directory. ``report.formats`` in the run's config
chooses which of the three files are written.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from scorelab.core.jsonable import dumps
from scorelab.exceptions import OutputError
from scorelab.report.blocks import md_escape
from scorelab.report.context import TABLES_DIR, ReportContext
from scorelab.report.glossary import glossary
from scorelab.report.sections import SECTIONS
from scorelab.runs.reader import RunData, load_run

__all__ = ["REPORT_FILES", "ReportPaths", "build_report", "render_html", "render_markdown",
           "report_data", "report_files"]

REPORT_FILES = ("report.html", "report.md", "report.json")
FORMAT_FILES = {"html": "report.html", "md": "report.md", "json": "report.json"}


# --------------------------------------------------------------------------- assembly

@dataclass(frozen=True)
class ReportPaths:
    """The files :func:`build_report` wrote (None: a format the config leaves out)."""

    html: Path | None
    md: Path | None
    json: Path | None
    tables: tuple[Path, ...] = ()


def report_data(run: RunData, context: ReportContext | None = None) -> dict[str, Any]:
    """The data of the report: title, run identity and its sections (JSON-ready).

    ``context`` (optional) collects the figures and full tables the sections make.
    """
    ctx = context if context is not None else ReportContext(run)
    sections = [s for s in (make(ctx) for make in SECTIONS) if s is not None]
    if sections:  # the glossary closes the last section, collapsed
        sections[-1].blocks.append(glossary(dumps([s.as_dict() for s in sections])))
    for number, section in enumerate(sections):
        section.number = number
    said = [s.as_dict() for s in sections]
    if ctx.people != "citizens":
        said = in_words(said, ctx.people)
    man = run.manifest
    return {
        "title": run.study.title,
        "study": run.study.name,
        "run": {"run_id": str(man.get("run_id", run.run_dir.name)),
                "seed": man.get("seed"), "config_hash": man.get("config_hash"),
                "data_fingerprint": man.get("data_fingerprint"),
                "command": man.get("command"), "versions": man.get("versions", {}),
                "timings_seconds": man.get("timings_seconds", {})},
        "artifacts": {"explanations": run.explanations is not None,
                      "importance": run.importance is not None,
                      "fairness": run.fairness is not None,
                      "fairness_by_group": run.fairness_by_group is not None},
        "sections": said,
    }


#: The seed paper's word for the people scored, and its forms.
_CITIZEN = re.compile(r"\b([Cc])itizen(s?)\b")
_A_CITIZEN = re.compile(r"\b([Aa]) ([Cc]itizen)\b")


def in_words(value: Any, people: str) -> Any:
    """The report's text with the seed paper's "citizens" as ``people`` (applicants on a
    lender's table), decided once for every section; names such as ``citizen_id`` keep
    their spelling."""
    if isinstance(value, str):
        one = people.removesuffix("s")
        if one[:1] in "aeiou":  # "a citizen" -> "an applicant"
            value = _A_CITIZEN.sub(lambda m: m[1] + "n " + m[2], value)
        return _CITIZEN.sub(lambda m: (one.capitalize() if m[1] == "C" else one) + m[2],
                            value)
    if isinstance(value, list):
        return [in_words(v, people) for v in value]
    if isinstance(value, dict):
        return {k: v if k in _LITERAL_KEYS else in_words(v, people)
                for k, v in value.items()}
    return value


#: Block keys whose values are names, never prose.
_LITERAL_KEYS = frozenset({"id", "key", "csv", "kind", "status", "align", "anchor", "href"})


def _environment(html: bool) -> Environment:
    env = Environment(loader=PackageLoader("scorelab.report", "templates"),
                      autoescape=html, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = md_escape
    env.filters["breakable"] = breakable
    return env


def breakable(value: Any) -> Markup:
    """Escaped text that may wrap after an underscore (long snake_case names in narrow
    table columns), and nowhere else inside a word."""
    return Markup(str(escape(str(value))).replace("_", "_<wbr>"))


def render_html(data: Mapping[str, Any], figures: Mapping[str, Callable[[], str]]) -> str:
    """The self-contained HTML page (autoescaped; figures are inline SVG)."""
    css = (Path(__file__).parent / "templates" / "report.css").read_text()
    svg = {key: Markup(make()) for key, make in figures.items()}
    return _environment(html=True).get_template("report.html.j2").render(
        data=data, figures=svg, css=Markup(css))


def render_markdown(data: Mapping[str, Any]) -> str:
    """The Markdown report: the same sections and tables, no figures, no volatile data."""
    text_ = _environment(html=False).get_template("report.md.j2").render(data=data)
    return "\n".join(line.rstrip() for line in text_.splitlines()).strip() + "\n"


def _write_atomic(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _formats(run: RunData) -> list[str]:
    formats = (run.config.get("report") or {}).get("formats") or list(FORMAT_FILES)
    return [f for f in FORMAT_FILES if f in formats]


def report_files(formats: Sequence[str]) -> list[str]:
    """The report files a run with ``report.formats = formats`` holds (the manifest
    lists them; the full tables under ``tables/`` are the report's and are not listed)."""
    return [FORMAT_FILES[f] for f in FORMAT_FILES if f in formats]


def _csv(frame: Any) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def build_report(run_dir: str | Path, *, unpublished: bool = False,
                 formats: list[str] | None = None) -> ReportPaths:
    """Render the report files (``report.formats`` of the run's config, or ``formats``)
    and the full tables (``tables/*.csv``) into a run directory.

    Each file is written under a temporary name and renamed into place; re-running
    replaces only the report's own files.

    Raises
    ------
    DataError
        The run directory is missing or lacks a core artifact (one line naming it).
    OutputError
        The run directory is not writable.
    """
    run = load_run(run_dir, unpublished=unpublished)
    if not os.access(run.run_dir, os.W_OK):
        raise OutputError(f"run directory '{run.run_dir}' is not writable")
    chosen = formats if formats is not None else _formats(run)
    ctx = ReportContext(run)
    data = report_data(run, ctx)
    content = {"json": lambda: dumps(data), "md": lambda: render_markdown(data),
               "html": lambda: render_html(data, ctx.figures)}
    written: dict[str, Path] = {}
    tables: list[Path] = []
    try:
        folder = run.run_dir / TABLES_DIR
        if ctx.tables:
            folder.mkdir(exist_ok=True)
        for name, frame in ctx.tables.items():
            tables.append(folder / f"{name}.csv")
            _write_atomic(tables[-1], _csv(frame))
        for fmt_ in chosen:
            written[fmt_] = run.run_dir / FORMAT_FILES[fmt_]
            _write_atomic(written[fmt_], content[fmt_]())
    except OSError as exc:
        raise OutputError(f"cannot write the report into '{run.run_dir}': "
                          f"{exc.strerror or exc}") from None
    return ReportPaths(written.get("html"), written.get("md"), written.get("json"),
                       tuple(tables))
