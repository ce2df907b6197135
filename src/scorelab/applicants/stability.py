"""``scorelab stability RUN_DIR TABLE``: has the population moved since the run?

The run's citizens are the reference (the development sample): their inputs, and their
scores by each model's final model, the model that will meet the new applicants. The
new table is scored by the same model (after the checks ``scorelab score`` makes of
its columns), and the score's population stability index and each
input's characteristic stability are computed against the reference, with the
0.10 / 0.25 traffic lights of :mod:`scorelab.evaluate.stability`. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scorelab.applicants.score import check_applicants, load_final_model, scale_of
from scorelab.data.loaders import read_table
from scorelab.evaluate.stability import PSI_AMBER, PSI_RED, characteristic_stability, light, psi
from scorelab.exceptions import DataError
from scorelab.runs.reader import load_run

__all__ = ["StabilityCheck", "check_stability"]


@dataclass
class StabilityCheck:
    """Score PSI per model and input stability, run against a new table."""

    run_dir: Path
    table: Path
    rows: int
    scores: pd.DataFrame  # model, psi, light
    inputs: pd.DataFrame  # column, psi, light, expected_missing, actual_missing

    def as_dict(self) -> dict[str, Any]:
        return {"run_dir": str(self.run_dir), "table": str(self.table), "rows": self.rows,
                "thresholds": {"amber": PSI_AMBER, "red": PSI_RED},
                "scores": self.scores.to_dict("records"),
                "inputs": self.inputs.to_dict("records")}


def check_stability(run_dir: str | Path, table: str | Path,
                    model: str | None = None) -> StabilityCheck:
    """Compare a new table of applicants with a run's citizens (see the module doc).

    ``model``: one model (name or family); default every model with a saved final model.

    Raises
    ------
    DataError
        One line: the run, the table or a column that cannot be used, and why.
    """
    run = load_run(run_dir)
    names = [run.resolve_model(model)] if model is not None else [
        m for m in run.model_names if (run.run_dir / "models" / m / "model.json").is_file()]
    if not names:
        raise DataError(f"run directory '{run.run_dir}' saved no models (output.save_models: "
                        f"{run.config['output']['save_models']}); re-run with save_models: "
                        "both to check a table's stability")
    frame = read_table(table, "table")
    label = f"table '{Path(table).name}'"
    checked = [(name, *load_final_model(run, name)) for name in names]
    inputs = {spec.name: spec for _, manifest, _ in checked for spec in manifest.inputs}
    actual = check_applicants(frame, list(inputs.values()), label)  # every check, first
    scale = scale_of(run)
    population = run.population()
    expected = check_applicants(population, list(inputs.values()), "the run's population")
    rows = []
    for name, manifest, estimator in checked:
        columns = [spec.name for spec in manifest.inputs]
        reference, points = (scale.points(estimator.predict_proba(X[columns])[:, 1])
                             for X in (expected, actual))
        value = psi(reference, points)
        rows.append({"model": name, "psi": value, "light": light(value)})
    return StabilityCheck(run.run_dir, Path(table), len(frame), pd.DataFrame(rows),
                          characteristic_stability(expected, actual, list(inputs)))
