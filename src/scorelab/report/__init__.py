"""The report: render a run directory (and compare runs) without training anything.

Reads only the run directory, through ``runs``; imports the foundation and ``runs``.

``build_report(run_dir)`` writes ``report.html`` (self-contained), ``report.md`` and
``report.json`` (as ``report.formats`` asks) and the full tables under ``tables/``;
``compare_runs(run_dirs)`` compares runs model by model with the first.
"""

from scorelab.report.compare import (
    Comparison,
    compare_html,
    compare_markdown,
    compare_runs,
    compare_table,
)
from scorelab.report.render import (
    REPORT_FILES,
    ReportPaths,
    build_report,
    report_data,
    report_files,
)

__all__ = [
    "REPORT_FILES",
    "Comparison",
    "ReportPaths",
    "build_report",
    "compare_html",
    "compare_markdown",
    "compare_runs",
    "compare_table",
    "report_data",
    "report_files",
]
