"""Benchmark: ``scorelab serve`` under load on a 20,000-citizen run.

Builds (or reuses) a run of 20,000 synthetic citizens with a scorecard and LightGBM,
starts ``scorelab serve`` on it as its own process, warms each model's fold models up,
then sends 50 concurrent what-if requests (distinct citizens and edits), 50 concurrent
page loads (runs, run, citizen letters, cut-offs, slicer, compare) and finally 2,000
what-ifs in waves of 50 while sampling the server's memory. Prints p50/p95/max latency
per phase, errors, and the server's resident memory (start, after the 50s, every 500
requests of the 2,000): flat memory means the caches are bounded.

Aims (issue 33, 2 cores): what-if p95 < 300 ms, page p95 < 1 s, no error, flat memory.

Run: .venv/bin/python benchmarks/bench_serve.py [N_CITIZENS] [RUNS_DIR]
(RUNS_DIR with a finished run of this benchmark is reused; default: a folder under /tmp.)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODELS = [{"family": "logit", "name": "scorecard", "kind": "scorecard"},
          {"family": "trees", "name": "lightgbm", "kind": "lightgbm",
           "params": {"n_estimators": 200}}]
CONCURRENT = 50
LONG = 2000


def build_run(runs_dir: Path, n: int) -> str:
    """The id of a finished benchmark run in ``runs_dir`` (built when there is none)."""
    for path in sorted(runs_dir.glob("*-bench-serve-*")):
        if (path / "manifest.json").is_file():
            return path.name
    from scorelab.config import config_from_dict
    from scorelab.study.runner import run

    cfg = config_from_dict({"name": "bench-serve", "seed": 3,
                            "population": {"n_citizens": n}, "models": MODELS,
                            "evaluation": {"folds": 5, "bootstrap": 0, "n_jobs": 2},
                            "explain": {"enabled": False}, "fairness": {"bootstrap": 0},
                            "output": {"save_models": "both"}})
    start = time.perf_counter()
    done = run(cfg, runs_dir=runs_dir)
    print(f"built the run in {time.perf_counter() - start:.1f} s: {done.run_dir}", flush=True)
    return done.run_dir.name


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def summary(name: str, seconds: list[float], errors: int, wall: float) -> str:
    ms = np.array(seconds) * 1000
    return (f"{name:<28}{len(ms):>6}{np.percentile(ms, 50):>9.0f}{np.percentile(ms, 95):>9.0f}"
            f"{ms.max():>9.0f}{errors:>8}{wall:>9.2f}")


async def timed(client: httpx.AsyncClient, url: str) -> tuple[float, bool]:
    start = time.perf_counter()
    try:
        response = await client.get(url)
        ok = response.status_code == 200
        if not ok:
            print(f"  {response.status_code} {url}: {response.text[:200]}", flush=True)
    except httpx.HTTPError as exc:
        print(f"  {type(exc).__name__} {url}", flush=True)
        ok = False
    return time.perf_counter() - start, ok


async def wave(client: httpx.AsyncClient, urls: list[str]) -> tuple[list[float], int, float]:
    start = time.perf_counter()
    answers = await asyncio.gather(*(timed(client, u) for u in urls))
    return [t for t, _ in answers], sum(not ok for _, ok in answers), \
        time.perf_counter() - start


def whatif_urls(run_id: str, citizens: np.ndarray, rng: np.random.Generator) -> list[str]:
    urls = []
    for i, cid in enumerate(citizens):
        model = ("scorecard", "lightgbm")[i % 2]
        edits = (f"set.late_payments={int(rng.integers(0, 8))}"
                 f"&set.utilisation={rng.uniform(0.2, 0.8):.2f}")
        urls.append(f"/api/runs/{run_id}/citizens/{cid}/whatif?model={model}&{edits}")
    return urls


def first_of_each_fold(run_dir: Path, model: str) -> list[int]:
    """One citizen held out by each fold of ``model`` (first repeat)."""
    import pandas as pd

    pred = pd.read_parquet(run_dir / "predictions.parquet",
                           columns=["citizen_id", "model", "fold", "repeat"])
    mine = pred[(pred["model"].astype(str) == model) & (pred["repeat"] == 0)]
    return [int(c) for c in mine.groupby("fold")["citizen_id"].first()]


async def main_async(base: str, folder: Path, run_id: str, other: str, pid: int,
                     n: int) -> None:
    rng = np.random.default_rng(0)
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT,
                          keepalive_expiry=20)  # under the server's 30 s
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        start = time.perf_counter()
        warm = [f"/runs/{run_id}", f"/runs/{run_id}/cutoffs?model=lightgbm",
                f"/runs/{run_id}/slicer",
                f"/compare/{run_id}/{other}?model=lightgbm&model_b=scorecard"]
        for model in ("scorecard", "lightgbm"):  # a citizen of every fold: each fold
            for cid in first_of_each_fold(folder / run_id, model):  # model loads once
                warm.append(f"/api/runs/{run_id}/citizens/{cid}/whatif?model={model}")
        for url in warm:
            _, ok = await timed(client, url)
            assert ok, url
        print(f"warm-up (fold models, rankings, population): "
              f"{time.perf_counter() - start:.1f} s; server RSS {rss_mib(pid):.0f} MiB; "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"{'phase':<28}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}"
              f"{'wall s':>9}")
        citizens = rng.choice(n, CONCURRENT, replace=False)
        t, errors, wall = await wave(client, whatif_urls(run_id, citizens, rng))
        print(summary("50 concurrent what-ifs", t, errors, wall), flush=True)
        pages = []
        for i, cid in enumerate(rng.choice(n, CONCURRENT, replace=False)):
            cutoffs = f"/runs/{run_id}/cutoffs?model=scorecard&cutoff={580 + i}"
            pages.append([f"/runs/{run_id}/citizens/{cid}?model=lightgbm", "/",
                          f"/runs/{run_id}", cutoffs, f"/runs/{run_id}/slicer?attrs=age&attrs=sex",
                          f"/compare/{run_id}/{other}?model=lightgbm&model_b=scorecard"][i % 6])
        t, errors, wall = await wave(client, pages)
        print(summary("50 concurrent page loads", t, errors, wall), flush=True)
        letters = [f"/runs/{run_id}/citizens/{cid}?model=scorecard"
                   for cid in rng.choice(n, CONCURRENT, replace=False)]
        t, errors, wall = await wave(client, letters)
        print(summary("50 new citizens' letters", t, errors, wall), flush=True)
        memory = [rss_mib(pid)]
        all_t, all_errors, start = [], 0, time.perf_counter()
        for k in range(LONG // CONCURRENT):
            urls = whatif_urls(run_id, rng.choice(n, CONCURRENT, replace=False), rng)
            if k % 2:
                urls = [u.replace("/api/runs/", "/runs/").replace("/whatif", "") for u in urls]
            t, errors, _ = await wave(client, urls)
            all_t += t
            all_errors += errors
            if (k + 1) * CONCURRENT % 500 == 0:
                memory.append(rss_mib(pid))
        print(summary(f"{LONG:,} what-ifs and pages", all_t, all_errors,
                      time.perf_counter() - start))
        print("server RSS MiB after 0, 500, 1000, 1500, 2000 requests: "
              + ", ".join(f"{m:.0f}" for m in memory))


def main(n: int = 20_000, runs_dir: str | None = None) -> None:
    folder = Path(runs_dir or "/tmp/scorelab-bench-serve")
    folder.mkdir(parents=True, exist_ok=True)
    run_id = build_run(folder, n)
    from scorelab.runs import load_run

    n = int(load_run(folder / run_id).study.population.n_citizens)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "scorelab", "serve", str(folder),
                               "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        print(server.stdout.readline().strip(), flush=True)
        print(f"{n:,} citizens, models {', '.join(m['name'] for m in MODELS)}; "
              f"{os.cpu_count()} cores", flush=True)
        asyncio.run(main_async(f"http://127.0.0.1:{port}", folder, run_id, run_id, server.pid,
                               n))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
        print(server.stdout.read().strip())
        server.stdout.close()
    print(json.dumps({"run": run_id}))


if __name__ == "__main__":
    main(*(int(a) if i == 0 else a for i, a in enumerate(sys.argv[1:])))
