"""The run directory: its written contract, its one writer and its one reader."""

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
