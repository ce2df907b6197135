"""The families compared across many datasets (``scorelab benchmark``).

A surface over many runs: every cell (dataset x seed) is an ordinary run directory made
by the study runner; the benchmark adds the long results table, the statistics across
datasets (Friedman, critical differences, Wilcoxon-Holm, Bayesian signed-rank), fairness
ranked beside accuracy, and its own report. Imports every layer up to ``study``.

config (the benchmark file) -> cells (planned and checked, then run or found finished)
-> results (read from the run directories) -> stats -> report.
"""

from scorelab.benchmark.command import BenchmarkResult, benchmark
from scorelab.benchmark.config import METRICS, BenchmarkConfig, load_benchmark_config

__all__ = ["METRICS", "BenchmarkConfig", "BenchmarkResult", "benchmark",
           "load_benchmark_config"]
