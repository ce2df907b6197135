"""The bad-request corpus of ``scorelab serve`` (tests/bad_inputs/serve/expected.yaml):
path traversal in every spelling, unknown ids, a damaged or unfinished run and bad
what-if values each get their status and one line, never a traceback, and the runs
folder is unchanged after all of them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml

from tests.bad_inputs.harness import digest
from tests.serve.conftest import DAMAGED, LINK

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs" / "serve" / "expected.yaml"
CASES = yaml.safe_load(CORPUS.read_text())


def _line(response: object) -> str:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["error"]
    found = re.findall(r'class="problem"[^>]*>(.*?)</p>', response.text, flags=re.DOTALL)
    assert len(found) == 1, response.text[:500]
    return html.unescape(found[0])


@pytest.fixture(scope="module")
def before(runs_dir: Path) -> dict[str, str]:
    return digest(runs_dir)


@pytest.mark.parametrize(("url", "status", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_bad_request(client, runs_dir, run_id, before, url, status, pattern):
    names = {"run": run_id, "damaged": DAMAGED, "link": LINK}
    url, pattern = url.format(**names), pattern.replace("{damaged}", DAMAGED)
    response = client.get(url)
    assert response.status_code == status, (url, response.text[:300])
    line = _line(response)
    assert "\n" not in line.strip() and "Traceback" not in response.text
    assert re.search(pattern, line), line


def test_corpus_changed_nothing(runs_dir, before):
    assert digest(runs_dir) == before
