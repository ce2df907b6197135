"""The Dask cluster of a study: connected to, or started and stopped, by scorelab.

With no ``compute.dask.address`` a ``LocalCluster`` of worker processes listens on the
loopback interface only (its scheduler's HTTP endpoint too, on a free port: the
default 8787 would clash with any other cluster on the machine) and is closed when the
study ends, however it ends. An address that does not answer within ``connect_timeout`` is one line, found
before any work.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from scorelab.config import Compute, DaskCompute
from scorelab.exceptions import ConfigError

__all__ = ["DaskRunner", "check_backend", "dask_client", "require_dask"]

EXTRA = "pip install 'scorelab[dask]'"
#: What every worker imports to run the study's tasks (the estimators, the fold engine,
#: LightGBM): imported once by the fork server, so each worker starts with them instead
#: of importing them itself (scikit-learn, SciPy and optbinning take seconds per process).
WORKER_MODULES = ("scorelab.engine.dask.backend", "scorelab.engine.dask.fit", "scorelab.models",
                  "lightgbm")


def require_dask() -> None:
    """One line if the optional extra is not installed."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"compute.backend: dask needs Dask and distributed ({exc.name} is "
                          f"not installed); install the extra: {EXTRA}") from None


@contextlib.contextmanager
def dask_client(cfg: DaskCompute) -> Iterator[Any]:
    """A client of the configured scheduler, or of a LocalCluster started here."""
    require_dask()
    import dask
    from distributed import Client, LocalCluster

    if cfg.address is not None:
        try:
            client = Client(cfg.address, timeout=f"{cfg.connect_timeout}s",
                            set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"compute.dask.address: no Dask scheduler answered at {cfg.address} within "
                f"{cfg.connect_timeout:g} s ({type(exc).__name__}); start one "
                "(dask scheduler) or set address: null for a LocalCluster") from None
        with contextlib.closing(client):
            yield client
        return
    quiet = [logging.getLogger(n) for n in ("distributed", "distributed.nanny",
                                             "distributed.scheduler", "distributed.worker")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.ERROR)
    # Workers start from a fork server: a fresh process, safe whatever threads (OpenMP,
    # the event loop) this one runs, and seconds faster than spawning each interpreter.
    method = ("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
              else "spawn")
    try:
        if method == "forkserver":
            _preload_fork_server()
        with dask.config.set({"distributed.worker.multiprocessing-method": method}), \
                LocalCluster(n_workers=cfg.n_workers, threads_per_worker=cfg.threads_per_worker,
                          memory_limit=cfg.memory_limit, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster, \
                Client(cluster, set_as_default=False) as client:
            client.run(_quiet_stdout)
            yield client
    finally:
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)


def _preload_fork_server() -> None:
    """The fork server imports what distributed preloads (itself and its packages) and
    :data:`WORKER_MODULES`; it is started once per process, by the first cluster, and
    later settings do not reach a running one (then the workers import as they go)."""
    import dask
    from distributed.utils import get_mp_context
    from distributed.versions import optional_packages, required_packages

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        get_mp_context()  # distributed sets its own preload list once; extended here
    packages = [p for p in ("distributed", *required_packages, *optional_packages)
                if importlib.util.find_spec(p) is not None]
    multiprocessing.get_context("forkserver").set_forkserver_preload(
        [*packages, *WORKER_MODULES])


def _quiet_stdout() -> None:
    """A LocalCluster worker's standard output goes to /dev/null: LightGBM's network
    prints "[LightGBM] [Info]" lines from native threads that no verbosity setting
    reaches, and would cut through the study's progress display. Errors still travel
    to the client and logs to standard error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    os.dup2(devnull, 1)
    os.close(devnull)


def check_backend(compute: Compute) -> None:
    """The Dask backend's settings that need the outside world: the extra is installed
    and the scheduler answers (``validate`` runs this; ``run`` finds it on connecting)."""
    if compute.backend != "dask":
        return
    require_dask()
    if compute.dask.address is not None:
        with dask_client(compute.dask):
            pass


class DaskRunner:
    """Runs a function per partition as tasks on the cluster; results stay on the workers
    (futures) until gathered."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, func: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [self.client.submit(func, *a, pure=False) for a in args]

    def gather(self, handles: list[Any]) -> list[Any]:
        return list(self.client.gather(handles))
