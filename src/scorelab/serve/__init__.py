"""``scorelab serve``: the auditor's workbench, a local read-only web app over a runs folder.

Every view is a page at a citable URL (the runs, a run and its report, a citizen's
letter and what-if, a comparison, the cut-off explorer, the slicer), rendered on the
server from run directories read through :func:`scorelab.runs.load_run`; a letter and a
what-if go through the scorer and letters of ``applicants``, so a page and ``scorelab
explain`` or ``score`` never disagree. Nothing under the runs folder is written, and
every script, style sheet and font is shipped in this package (no network request
leaves the machine). Starlette and uvicorn (the ``serve`` extra) are imported only by
:mod:`scorelab.serve.app` and :mod:`scorelab.serve.server`.

A surface over many runs: imports the foundation, ``config``, ``runs``, ``models``, the
stages (``explain``, ``fairness``, ``evaluate``), ``report`` and ``applicants``; nothing
imports it but ``api``.
"""

from scorelab.serve.catalog import NotFound, RunsFolder, RunSummary
from scorelab.serve.whatif import Workbench

__all__ = ["NotFound", "RunSummary", "RunsFolder", "Workbench"]
