"""Benchmark: the default study at growing population sizes, stage by stage.

Runs ``configs/default.yaml`` as ``scorelab run`` does (every family, explanations of
the audit sample, the full fairness audit, the run directory and the report) once per
size, each in a fresh process, and prints per stage its wall time and peak memory
(RSS of the process and its worker processes, sampled every 50 ms), then the growth
factor of every stage per 10x citizens ((t2 / t1) ** (1 / log10(n2 / n1)): 10 = linear).

Run: .venv/bin/python benchmarks/bench_scale.py [SIZES] [--backend local|dask]
     [--config PATH] [--timeout MINUTES]
SIZES is a comma-separated list (default 20000,100000; e.g. 20000,100000,1000000).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


class _Sampler:
    """Peak RSS (this process + its children) and wall time per stage (a progress
    reporter: the study announces its stages through :mod:`scorelab.core.progress`)."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.rows: list[dict[str, float | str]] = []
        self.peak = 0
        self.stage: str | None = None
        self.start = 0.0
        self.done = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for child in self.proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def begin(self, stage: str) -> None:
        self.stage, self.start, self.peak = stage, time.perf_counter(), self._rss()

    def step(self, done: int, total: int) -> None:
        pass

    def end(self, stage: str, seconds: float) -> None:
        self.peak = max(self.peak, self._rss())
        self.rows.append({"stage": stage, "seconds": seconds, "peak_gib": self.peak / 2**30})
        print(json.dumps({"row": self.rows[-1]}), flush=True)  # kept if the size times out


def one(n: int, config: Path, backend: str) -> None:
    """Run the study once at ``n`` citizens and print its stage rows as JSON."""
    from scorelab.core import progress
    from scorelab.config import config_from_dict, load_config
    from scorelab.study.runner import run

    raw = load_config(config).model_dump(mode="json")
    raw["population"]["n_citizens"] = n
    if backend != "local":
        if "compute" not in raw:
            sys.exit("this scorelab has no compute section: --backend dask is not available")
        raw["compute"]["backend"] = backend
    cfg = config_from_dict(raw)
    sampler = _Sampler()
    start = time.perf_counter()
    error = None
    try:
        with tempfile.TemporaryDirectory() as runs, progress.reporting(sampler):
            run(cfg, runs_dir=Path(runs))
    except Exception as exc:  # the stages that finished are still worth printing
        error = f"failed in stage {sampler.stage!r}: {type(exc).__name__}: {exc}"
    total = time.perf_counter() - start
    sampler.done.set()
    peak = max((r["peak_gib"] for r in sampler.rows), default=math.nan)
    print(json.dumps({"n": n, "rows": sampler.rows, "total": total, "peak_gib": peak,
                      "error": error}))


def _partial(n: int, stdout: bytes | str | None, minutes: float) -> dict:
    """The stages a size finished before its timeout (what its child printed)."""
    text = stdout.decode() if isinstance(stdout, bytes) else (stdout or "")
    rows = []
    for line in text.splitlines():
        if line.startswith('{"row"'):
            try:
                rows.append(json.loads(line)["row"])
            except json.JSONDecodeError:  # the line the timeout cut short
                pass
    return {"n": n, "rows": rows, "total": math.nan,
            "peak_gib": max((r["peak_gib"] for r in rows), default=math.nan),
            "error": f"stopped after {minutes:g} minutes"}


def _table(results: list[dict]) -> str:
    stages = list(dict.fromkeys(r["stage"] for res in results for r in res["rows"]))
    head = f"{'stage':<14}" + "".join(f"{res['n']:>12,} s {'GiB':>6}" for res in results)
    lines = [head]
    for stage in [*stages, "total"]:
        line = f"{stage:<14}"
        for res in results:
            row = {r["stage"]: r for r in res["rows"]}.get(stage)
            sec, gib = ((res["total"], res["peak_gib"]) if stage == "total" else
                        (row["seconds"], row["peak_gib"]) if row else (math.nan, math.nan))
            line += f"{sec:14.1f} {gib:6.2f}"
        lines.append(line)
    if len(results) > 1:
        lines.append("")
        lines.append("growth factor per 10x citizens (10 = linear):")
        for a, b in zip(results, results[1:], strict=False):
            decades = math.log10(b["n"] / a["n"])
            ta = {r["stage"]: r["seconds"] for r in a["rows"]} | {"total": a["total"]}
            tb = {r["stage"]: r["seconds"] for r in b["rows"]} | {"total": b["total"]}
            parts = [f"{s} {(tb[s] / ta[s]) ** (1 / decades):.1f}x" for s in [*stages, "total"]
                     if s in ta and s in tb and ta[s] > 0.05]
            lines.append(f"  {a['n']:,} -> {b['n']:,}: " + ", ".join(parts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="?", default="20000,100000")
    parser.add_argument("--backend", default="local", choices=["local", "dask"])
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "default.yaml")
    parser.add_argument("--timeout", type=float, default=120.0, help="minutes per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.config, args.backend)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--config", str(args.config),
               "--backend", args.backend]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 timeout=60 * args.timeout)
        except subprocess.TimeoutExpired as exc:
            print(f"{n:,} citizens: stopped after {args.timeout:g} minutes", flush=True)
            results.append(_partial(n, exc.stdout, args.timeout))
            break
        except subprocess.CalledProcessError as exc:
            print(f"{n:,} citizens failed:\n{exc.stderr[-2000:]}", flush=True)
            break
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{n:,} citizens: {results[-1]['total']:.1f} s, peak "
              f"{results[-1]['peak_gib']:.2f} GiB", flush=True)
        if results[-1]["error"]:
            print(f"  (incomplete: {results[-1]['error']})", flush=True)
            break
    print(f"\ndefault study ({args.config.name}), backend {args.backend}, "
          f"{psutil.cpu_count()} CPUs; wall seconds and peak RSS (GiB, with workers) per stage")
    print(_table(results))


if __name__ == "__main__":
    main()
