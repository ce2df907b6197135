"""Print a run's ``report.html`` to ``report.pdf`` with headless Chromium.

Chromium's own print engine lays the page out exactly as the browser shows it (the
report's print stylesheet applies); networking is off, so printing can fetch nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from scorelab.exceptions import OutputError

__all__ = ["CHROMIUM_CANDIDATES", "find_chromium", "print_pdf"]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser",
                       "/usr/bin/google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-extensions",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--no-pdf-header-footer")


def find_chromium() -> str | None:
    """``SCORELAB_CHROMIUM``, a usual install path, or ``chromium`` on the PATH."""
    env = os.environ.get("SCORELAB_CHROMIUM")
    for candidate in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def print_pdf(html: Path, pdf: Path, timeout: float = 120.0) -> Path:
    """Write ``pdf`` from ``html`` (atomically: a failed print leaves no file)."""
    browser = find_chromium()
    if browser is None:
        raise OutputError("--pdf needs headless Chromium, which was not found (set "
                          "SCORELAB_CHROMIUM or install chromium)")
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf.name}.", suffix=".tmp", dir=pdf.parent)
    os.close(fd)
    with tempfile.TemporaryDirectory(prefix="scorelab-chromium-") as profile:
        try:
            done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                                   f"--print-to-pdf={tmp}", html.resolve().as_uri()],
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            done = None
    if done is None or done.returncode != 0 or Path(tmp).stat().st_size == 0:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"Chromium could not print '{html}' to PDF")
    os.replace(tmp, pdf)
    return pdf
