"""Drive headless Chromium over the DevTools protocol on a pipe (stdlib only).

``open_page(path, out_png)`` loads a local file with networking off and returns what
the page did: every request it made, every error it logged, the result of a probe
script, and a full-page screenshot. ``--remote-debugging-pipe`` speaks the DevTools
protocol over file descriptors 3 (commands in) and 4 (events out) as NUL-separated
JSON, so no websocket client is needed.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorelab.report.pdf import CHROMIUM_CANDIDATES, find_chromium

INSTALL_HINT = ("headless Chromium is required for this test and was not found at "
                f"{', '.join(CHROMIUM_CANDIDATES)}; install it with: "
                "command -v chromium || (apt-get update && apt-get install -y chromium)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--proxy-bypass-list=<-loopback>", "--remote-debugging-pipe")


@dataclass
class PageResult:
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    probe: Any = None
    screenshot: Path | None = None


class _Pipe:
    def __init__(self, proc: subprocess.Popen[bytes], write_fd: int, read_fd: int) -> None:
        self.proc, self.write_fd, self.read_fd = proc, write_fd, read_fd
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method,
                                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 20.0) -> dict[str, Any]:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events[i]
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            self.events.append(msg)
            if msg.get("method") == method:
                return msg

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if ready:
                chunk = os.read(self.read_fd, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (code {self.proc.poll()})")
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)


def open_page(path: Path, screenshot: Path, probe_js: str, chromium: str | None = None,
              width: int = 1200, height: int = 900, media: str | None = None) -> PageResult:
    """Load ``path`` offline, run ``probe_js`` (an expression returning JSON), screenshot;
    ``media="print"`` lays the page out as the PDF prints it."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError(INSTALL_HINT)
    result = PageResult()
    with tempfile.TemporaryDirectory(prefix="scorelab-chromium-") as profile:
        cmd_r, cmd_w = os.pipe()   # we write commands; Chromium reads fd 3
        out_r, out_w = os.pipe()   # Chromium writes fd 4; we read
        proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=lambda: (os.dup2(cmd_r, 3), os.dup2(out_w, 4),
                                                 None)[-1])
        os.close(cmd_r)
        os.close(out_w)
        pipe = _Pipe(proc, cmd_w, out_r)
        try:
            target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = pipe.send("Target.attachToTarget",
                                {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                pipe.send(f"{domain}.enable", session=session)
            pipe.send("Network.emulateNetworkConditions",
                      {"offline": True, "latency": 0, "downloadThroughput": -1,
                       "uploadThroughput": -1}, session=session)
            if media:
                pipe.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
            pipe.events.clear()
            pipe.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
            pipe.wait_for("Page.loadEventFired", timeout=30)
            time.sleep(0.3)  # let late requests or errors arrive
            probe = pipe.send("Runtime.evaluate", {"expression": probe_js,
                                                   "returnByValue": True}, session=session)
            result.probe = probe.get("result", {}).get("value")
            shot = pipe.send("Page.captureScreenshot",
                             {"format": "png", "captureBeyondViewport": True},
                             session=session, timeout=60)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            result.screenshot = screenshot
            for event in pipe.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Network.requestWillBeSent":
                    result.requests.append(params["request"]["url"])
                elif method == "Runtime.exceptionThrown":
                    result.errors.append(json.dumps(params.get("exceptionDetails", {}))[:300])
                elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                        "error", "assert", "warning"):
                    result.errors.append(json.dumps(params.get("args", []))[:300])
                elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in (
                        "error", "warning"):
                    entry = params["entry"]
                    result.errors.append(f"{entry.get('source')}: {entry.get('text')} "
                                         f"{entry.get('url', '')}")
            try:
                pipe.send("Browser.close", timeout=5)
            except (RuntimeError, TimeoutError):
                pass
        finally:
            os.close(cmd_w)
            os.close(out_r)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return result
