# The two commands of the quick start. Both create .venv and install scorelab with its
# pinned dependencies on first use; later runs reuse it (re-installing only when
# pyproject.toml changed).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench golden clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask,mlflow,excel,datasets,serve]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/scorelab run configs/default.yaml | tee out/demo.log
	@echo "Report of the default study: $$(tail -n 1 out/demo.log)/report.html"

test: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(BIN)/python -m pytest -q -n auto --dist loadfile --durations=15  # one worker per core; a file's tests share a worker (and its fixtures); the 15 slowest listed

# The fast unit tier (under a minute): everything but the tests marked heavy (whole
# studies, many model fits), which make test runs too.
check: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile -m "not slow and not heavy"

# Regenerate the golden report.md of the tiny run (review the diff before committing).
golden: $(STAMP)
	UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/report/test_report.py -k golden

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_explain.py
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_score.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_fairness.py
	$(BIN)/python benchmarks/bench_practice.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_lda.py
	$(BIN)/python benchmarks/bench_accuracy.py
	$(BIN)/python benchmarks/bench_coverage.py

clean:
	rm -rf $(VENV) out .pytest_cache
