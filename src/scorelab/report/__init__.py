"""The report: render a run directory (and compare runs) without training anything.

``build_report(run_dir)`` writes ``report.html`` (self-contained), ``report.md`` and
``report.json`` into the run directory; ``compare_runs(run_dirs)`` lines several runs
up model by model.
"""

from scorelab.report.compare import (
    compare_html,
    compare_markdown,
    compare_runs,
    compare_table,
)
from scorelab.report.render import REPORT_FILES, ReportPaths, build_report, report_data

__all__ = [
    "REPORT_FILES",
    "ReportPaths",
    "build_report",
    "compare_html",
    "compare_markdown",
    "compare_runs",
    "compare_table",
    "report_data",
]
