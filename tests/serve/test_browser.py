"""The workbench in headless Chromium (Debian's, driven by Playwright): every view opens
with no console error, no request leaves the local server and nothing is wider than a
1280 px window; a what-if edit moves the score, the age sweep draws, two runs compare,
the cut-off slider moves the approval rate and a view saves as evidence."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scorelab.report.pdf import find_chromium

pytestmark = pytest.mark.heavy

WIDTH = 1280
#: Every element wider than the window, or reaching past its right edge (a probe).
TOO_WIDE = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > WIDTH || box.right > WIDTH + 1) out.push(el.tagName + '#' + el.id + '.' + el.className);
  }
  if (document.documentElement.scrollWidth > WIDTH) out.push('page scrolls sideways');
  return out;
}""".replace("WIDTH", str(WIDTH))


@pytest.fixture(scope="module")
def base_url(runs_dir: Path) -> Iterator[str]:
    """The workbench on a free loopback port, in a thread of this process."""
    import uvicorn

    from scorelab.serve.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runs_dir), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the workbench did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("headless Chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield found
        found.close()


class Watched:
    """A page whose every request and console message is watched."""

    def __init__(self, browser: object, base_url: str, tmp_path: Path) -> None:
        self.context = browser.new_context(viewport={"width": WIDTH, "height": 900},
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.base, self.foreign, self.errors = base_url, [], []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: object) -> None:
        url = route.request.url
        if url.startswith((self.base + "/", "file://", "data:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def open(self, path: str) -> object:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        self.page.wait_for_load_state("networkidle")
        return response

    def check(self, where: str) -> None:
        assert not self.foreign, f"{where}: requests off this machine: {self.foreign}"
        assert not self.errors, f"{where}: console errors: {self.errors}"
        wide = self.page.evaluate(TOO_WIDE)
        assert not wide, f"{where}: wider than {WIDTH} px: {wide[:5]}"


@pytest.fixture
def watched(browser: object, base_url: str, tmp_path: Path) -> Iterator[Watched]:
    page = Watched(browser, base_url, tmp_path)
    yield page
    page.context.close()


def test_every_view_opens_clean(watched: Watched, run_id: str, other_id: str) -> None:
    for path in ["/", f"/runs/{run_id}", f"/runs/{run_id}/report",
                 f"/runs/{run_id}/citizens/17?model=lightgbm",
                 f"/runs/{run_id}/cutoffs?model=lightgbm",
                 f"/runs/{run_id}/cutoffs?model=lightgbm&attribute=age_band&cut.18-25=580",
                 f"/runs/{run_id}/slicer?model=lightgbm&attrs=age&attrs=sex",
                 f"/runs/{run_id}/age", f"/compare/{run_id}/{other_id}?model=lightgbm",
                 "/runs/no-such-run"]:
        if path == "/runs/no-such-run":
            response = watched.page.goto(watched.base + path)
            assert response.status == 404
            assert "no run 'no-such-run'" in watched.page.inner_text(".problem")
            watched.errors = [e for e in watched.errors if "404" not in e]
        else:
            watched.open(path)
        watched.check(path)


def test_whatif_edit_and_age_sweep(watched: Watched, run_id: str) -> None:
    watched.open(f"/runs/{run_id}/citizens/17?model=scorecard")
    before = int(watched.page.get_attribute("#whatif-result .score", "data-score"))
    watched.page.fill("#in-late_payments", "9")
    watched.page.wait_for_selector("#whatif-change[data-delta]:not([data-delta='0.0'])")
    after = int(watched.page.get_attribute("#whatif-result .score", "data-score"))
    assert after < before
    assert "set.late_payments=9" in watched.page.url  # the state is a citable URL
    assert "Change from the letter" in watched.page.inner_text("#whatif-change")
    watched.page.click("#sweep-button")
    watched.page.wait_for_selector("#sweep-result svg polyline")
    assert "age" in watched.page.inner_text("#sweep-flips")
    watched.check("what-if")


def test_locked_input_unlocks(watched: Watched, run_id: str) -> None:
    watched.open(f"/runs/{run_id}/citizens/17?model=lightgbm")
    assert watched.page.is_disabled("#in-education")
    watched.page.check("input[name=unlock][value=education]")
    assert watched.page.is_enabled("#in-education")
    watched.check("unlock")


def test_cutoff_slider_moves_the_approval(watched: Watched, run_id: str) -> None:
    watched.open(f"/runs/{run_id}/cutoffs?model=lightgbm")
    first = watched.page.inner_text("#approval")
    watched.page.eval_on_selector("#cutoff", "el => { el.value = el.min; "
                                  "el.dispatchEvent(new Event('input', {bubbles: true})); }")
    from playwright.sync_api import expect

    expect(watched.page.locator("#approval")).not_to_have_text(first)
    assert watched.page.inner_text("#approval") == "100.0%"
    watched.check("cut-offs")


def test_compare_two_runs_from_the_run_page(watched: Watched, run_id: str,
                                            other_id: str) -> None:
    watched.open(f"/runs/{run_id}")
    watched.page.select_option("select[name=b]", other_id)
    watched.page.select_option("form[action='/compare'] select[name=model]", "lightgbm")
    watched.page.click("form[action='/compare'] button")
    watched.page.wait_for_selector("#flips-by-band")
    assert "Decisions that flip" in watched.page.content()
    watched.page.click("#flips a >> nth=0")
    watched.page.wait_for_selector("#letter")
    watched.check("compare")


def test_save_evidence(watched: Watched, run_id: str, tmp_path: Path) -> None:
    watched.open(f"/runs/{run_id}/citizens/17?model=scorecard")
    watched.page.fill("#in-late_payments", "9")
    watched.page.wait_for_selector("#whatif-change[data-delta]:not([data-delta='0.0'])")
    with watched.page.expect_download() as download:
        watched.page.click("#evidence")
    saved = tmp_path / "evidence.html"
    download.value.save_as(saved)
    text = saved.read_text()
    assert run_id in text and "set.late_payments=9" in text and "<script" not in text
    watched.page.goto(saved.as_uri())
    assert "Evidence saved" in watched.page.inner_text("#stamp")
    assert watched.page.get_attribute("#whatif-result .score", "data-score") is not None
    watched.check("evidence")
