"""Run the workbench: uvicorn on loopback, one line to start, one line to stop.

Starlette and uvicorn (the ``serve`` extra) are imported here, inside :func:`serve`,
so that importing scorelab (and ``scorelab --help``) never needs them.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scorelab.exceptions import ConfigError, OutputError
from scorelab.serve.catalog import RunsFolder

__all__ = ["INSTALL_HINT", "check_port", "host_warning", "is_loopback", "serve"]

INSTALL_HINT = "scorelab serve needs the serve extra: pip install 'scorelab[serve]'"
#: Seconds open connections get to finish after Ctrl-C (the issue asks for 2 in all).
GRACE = 1
#: Seconds an idle connection stays open: a browser (or a client's pool) that waits
#: between two requests finds its connection still there (uvicorn's default is 5).
KEEP_ALIVE = 30


def is_loopback(host: str) -> bool:
    """``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_warning(host: str) -> str | None:
    """The warning for a host other machines can reach (None on loopback)."""
    if is_loopback(host):
        return None
    return (f"warning: serving on {host}: other machines can reach this workbench and read "
            "every run in the folder (it has no login); use the default 127.0.0.1 unless "
            "that is intended")


def check_port(host: str, port: int) -> None:
    """One line if ``port`` is not a port or cannot be bound on ``host``."""
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1-65535; got {port}")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise OutputError(f"port {port} on {host} {why}; give another with --port"
                              ) from None


def serve(runs_dir: str | Path, *, host: str = "127.0.0.1", port: int = 8000,
          say: Callable[[str], None] = print) -> None:
    """Serve the workbench over ``runs_dir`` until Ctrl-C (or SIGTERM).

    ``say`` receives the lines for the user: the address, a warning for a host other
    than loopback, and one line when it stops.

    Raises
    ------
    DataError
        The runs folder does not exist.
    ConfigError
        The ``serve`` extra is not installed, or the port is not a port.
    OutputError
        The port cannot be bound.
    """
    RunsFolder(runs_dir)  # one line if the folder is missing, before anything starts
    try:
        import uvicorn

        from scorelab.serve.app import LOOPBACK_HOSTS, create_app
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    check_port(host, port)
    warning = host_warning(host)
    hosts = list(LOOPBACK_HOSTS) if warning is None else ["*"]
    app = create_app(runs_dir, allowed_hosts=hosts)
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning",
                            access_log=False, lifespan="off",
                            timeout_graceful_shutdown=GRACE, server_header=False,
                            timeout_keep_alive=KEEP_ALIVE)
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    ready = (f"scorelab serve: http://{shown}:{port}/ over {Path(runs_dir)} (read-only); "
             "Ctrl-C stops it")

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # the address is said once it answers
                say(ready)

        def handle_exit(self, sig: int, frame: Any) -> None:
            # stopping on purpose: a request still running is cancelled after GRACE
            # seconds without uvicorn's error lines and traceback (one line in all)
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL + 1)
            super().handle_exit(sig, frame)

    if warning:
        say(warning)
    try:
        _Server(config).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled
        pass
    say("scorelab serve: stopped")
