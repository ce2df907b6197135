"""MLflow in the tests: no usage telemetry sent from a test run."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_mlflow_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
