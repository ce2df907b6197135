"""Benchmark: score new applicants with every family's final model, 4 reasons each;
print rows per second and the scorer's own peak memory per model.

A study of the default config's families (plus the EBM and HCES-Bag, whose speed the
reasons issue also names) is run first on 20,000 citizens with final models saved;
then a fresh synthetic population of N applicants (another seed) is written to Parquet
and each model scores it with ``scorelab score`` in its own subprocess, which reports
its peak RSS (``ru_maxrss`` of that process alone). Models explained by sampling (no
exact or network explainer: the mitigation variant) score the first ``SAMPLED_ROWS``
rows only, and say so.

Aims on 2 cores: >= 20,000 rows/s for scorecard, expert, LightGBM, forest and EBM;
>= 5,000 for stacking and HCES-Bag; >= 2,000 for the MLP and Yim-Mitchell.

Run: .venv/bin/python benchmarks/bench_score.py [N] [CHUNK] [MODEL ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from scorelab.applicants.score import load_final_model
from scorelab.config import load_config
from scorelab.data.synthetic import generate_population
from scorelab.explain.explainers import is_exact, is_fast
from scorelab.runs.reader import load_run
from scorelab.study.runner import run

ROOT = Path(__file__).resolve().parents[1]
SAMPLED_ROWS = 2_000
EXTRA = [{"family": "additive", "name": "ebm", "kind": "ebm"},
         {"family": "hybrid", "name": "hces_bag", "kind": "hces_bag",
          "params": {"budget": 3, "bags": 5}}]
#: Run in the child: the CLI, then this process's own peak RSS (KiB) on stderr.
CHILD = """
import resource, sys
from scorelab.cli.commands import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    sys.stderr.write(f"MAXRSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
"""


def _study(work: Path) -> Path:
    cfg = load_config(ROOT / "configs" / "default.yaml", {
        "name": "bench_score", "population.n_citizens": 20_000, "evaluation.folds": 2,
        "evaluation.bootstrap": 0, "explain.enabled": False, "fairness.enabled": False,
        "output.save_models": "final", "report.formats": ["md"]})
    cfg = cfg.model_copy(update={"models": [*cfg.models, *[
        type(cfg.models[0]).model_validate(m) for m in EXTRA]]})
    start = time.perf_counter()
    run_dir = run(cfg, runs_dir=work / "runs").run_dir
    assert run_dir is not None
    print(f"study of 20,000 citizens, {len(cfg.models)} models: "
          f"{time.perf_counter() - start:.0f} s -> {run_dir}", flush=True)
    return run_dir


def _score(run_dir: Path, table: Path, out: Path, model: str, chunk: int
           ) -> tuple[float, float]:
    """(seconds, peak RSS in GiB) of one ``scorelab score`` in its own process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, "score", str(run_dir), str(table),
                           "--out", str(out), "--model", model, "--reasons", "4",
                           "--chunk-size", str(chunk), "--json"],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{model}: scorelab score failed: {done.stderr.strip()[-500:]}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines()
                if line.startswith("MAXRSS"))
    json.loads(done.stdout)  # the summary: the command finished
    return seconds, peak / 2**20


def main(n: int, chunk: int, only: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench_score-"))
    run_dir = _study(work)
    data = load_run(run_dir)
    population = load_config(ROOT / "configs" / "default.yaml").population
    applicants = generate_population(population.model_copy(update={"n_citizens": n}),
                                     99).frame
    applicants = applicants.drop(columns=["defaulted", "latent_reliability", "true_pd",
                                          "true_default"], errors="ignore")
    table = work / "applicants.parquet"
    applicants.to_parquet(table, index=False)
    small = work / "applicants-sampled.parquet"
    applicants.iloc[:SAMPLED_ROWS].to_parquet(small, index=False)
    print(f"{n:,} applicants written ({table.stat().st_size / 2**20:.0f} MiB Parquet)",
          flush=True)
    rows = []
    for model in only or data.model_names:
        _, fitted = load_final_model(data, model)
        fast = is_fast(fitted)
        source, count = (table, n) if fast else (small, SAMPLED_ROWS)
        seconds, peak = _score(run_dir, source, work / f"scored-{model}.parquet", model, chunk)
        rows.append({"model": model, "rows": count, "seconds": round(seconds, 1),
                     "rows/s": round(count / seconds), "peak GiB": round(peak, 2),
                     "reasons": ("exact" if is_exact(fitted) else
                                 "deep-shap" if fast else "sampled")})
        print(f"{model:>24}: {count:,} rows with 4 reasons in {seconds:.1f} s "
              f"({count / seconds:,.0f} rows/s), peak RSS {peak:.2f} GiB "
              f"(chunk {chunk:,}; reasons {rows[-1]['reasons']})", flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, sys.argv[3:])
