"""The run directory: its written contract (typed artifacts), its one writer (publish or
discard), its one reader (``load_run``), housekeeping and interrupts.

The store under every stage: imports only the foundation and ``config`` (to validate
the resolved config on load). The stages return the contract's types; the study writes
them through the writer; the report and the applicants read them through the reader.
"""

from scorelab.runs.contract import FORMAT_VERSION, ModelManifest, StudyInfo
from scorelab.runs.reader import RunData, load_run, read_json_artifact
from scorelab.runs.writer import (
    RunWriter,
    Stopwatch,
    command_line,
    frame_fingerprint,
    package_versions,
    run_id,
)

__all__ = ["FORMAT_VERSION", "ModelManifest", "RunData", "RunWriter", "Stopwatch",
           "StudyInfo", "command_line", "frame_fingerprint", "load_run", "package_versions",
           "read_json_artifact", "run_id"]
