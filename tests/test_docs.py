"""The README and the manual under docs/: links that resolve, config snippets that
validate, a short front page, and a config reference generated from the schema.

Every fenced ```yaml block is a config (a mapping at top level) and must validate with
:func:`scorelab.config.config_from_dict` as a whole, since every key of the config has a
default; a block whose first line is ``# fragment of <dotted.key>`` is validated as the
value of that key (``# fragment of explain.reasons`` wraps it as
``{"explain": {"reasons": block}}``). YAML that is not a config belongs in another fence.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from scorelab.config import config_from_dict
from scorelab.exceptions import ConfigError

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250

FENCE = re.compile(r"^(```|~~~)(.*?)\n(.*?)^\1\s*$", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FRAGMENT = re.compile(r"^#\s*fragment of\s+([A-Za-z_][\w.]*)\s*$")


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


# --------------------------------------------------------------------------- links


def _prose(text: str) -> str:
    """``text`` without fenced blocks and code spans (a link inside code is code)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, every character but letters, digits,
    spaces, ``-`` and ``_`` dropped, spaces to ``-``; markup and link targets are not
    part of the text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor GitHub gives the headings of a Markdown text (a repeated heading
    gets ``-1``, ``-2``, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", text)):
        slug = github_slug(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(text: str, source: Path) -> list[str]:
    """The relative links of ``text`` (a Markdown file at ``source``) that do not resolve:
    a missing file or folder, or an anchor no heading of the target Markdown file has.
    Web and mail links are not followed."""
    broken = []
    for target in LINK.findall(_prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (source.parent / path).resolve() if path else source
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md":
            page = text if file == source else file.read_text()
            if anchor not in anchors(page):
                broken.append(target)
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page: Path) -> None:
    assert broken_links(page.read_text(), page) == []


def test_the_link_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Its `section` (two)\n")
    page = tmp_path / "page.md"
    text = ("# Title\n\n[ok](other.md) [ok](other.md#its-section-two) [ok](#title)\n"
            "[web](https://example.org/x.md) [mail](mailto:a@b.c)\n"
            "[gone](missing.md) [bad anchor](other.md#nowhere) [here](#no-such-heading)\n"
            "`[in code](missing-too.md)`\n\n```md\n[in a block](missing-three.md)\n```\n")
    page.write_text(text)
    assert broken_links(text, page) == ["missing.md", "other.md#nowhere", "#no-such-heading"]


def test_github_slugs() -> None:
    assert github_slug("Less discriminatory alternatives (`scorelab lda`)") == \
        "less-discriminatory-alternatives-scorelab-lda"
    assert github_slug("Large populations (`compute.sample_size`)") == \
        "large-populations-computesample_size"
    assert github_slug("`population` (source: synthetic)") == "population-source-synthetic"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for target in LINK.findall(_prose(README.read_text()))}
    assert [p.name for p in sorted(DOCS.glob("*.md")) if p.resolve() not in linked] == []


# --------------------------------------------------------------------------- yaml snippets


def yaml_blocks(text: str) -> list[str]:
    return [body for _, info, body in FENCE.findall(text)
            if info.strip().split(" ")[0].lower() in {"yaml", "yml"}]


def as_config(block: str) -> dict[str, Any]:
    """The config a snippet stands for (a fragment wrapped under its key)."""
    data = yaml.safe_load(block)
    first = block.lstrip().splitlines()[0] if block.strip() else ""
    if (match := FRAGMENT.match(first)):
        for key in reversed(match.group(1).split(".")):
            data = {key: data}
    assert isinstance(data, dict), f"not a mapping at top level:\n{block}"
    return data


def test_an_empty_config_validates() -> None:
    assert config_from_dict({}).name == "study"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_snippet_validates(page: Path) -> None:
    for block in yaml_blocks(page.read_text()):
        try:
            config_from_dict(as_config(block), source=page.name)
        except ConfigError as exc:
            pytest.fail(f"{page.name}: a yaml snippet does not validate: {exc}\n{block}")


def test_the_docs_hold_yaml_snippets() -> None:
    assert sum(len(yaml_blocks(p.read_text())) for p in pages()) >= 3


def test_a_wrong_snippet_fails() -> None:
    text = "x\n```yaml\nevaluation: {foldz: 5}\n```\n"
    (block,) = yaml_blocks(text)
    with pytest.raises(ConfigError, match="foldz"):
        config_from_dict(as_config(block))
    fragment = "# fragment of explain.reasons\nmax_reasons: 9\n"
    assert as_config(fragment) == {"explain": {"reasons": {"max_reasons": 9}}}
    with pytest.raises(ConfigError, match="max_reasons"):
        config_from_dict(as_config(fragment))


# --------------------------------------------------------------------------- the pages


def test_the_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, \
        f"README.md has {len(lines)} lines; at most {MAX_README_LINES} (move detail to docs/)"


def test_the_docs_speak_of_what_is_in_the_repository() -> None:
    for page in pages():
        text = page.read_text()
        assert not re.search(r"\bissues?\s+#?\d+", text, re.IGNORECASE), f"{page.name} cites an issue"
        assert "design.md" not in text, f"{page.name} cites design.md"


def _reference_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_config_reference",
                                                  DOCS / "make_config_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_config_reference_is_current() -> None:
    expected = _reference_script().render()
    assert (DOCS / "config.md").read_text() == expected, \
        "docs/config.md differs from the config schema: run python docs/make_config_reference.py"


def test_the_config_reference_covers_every_key() -> None:
    from pydantic import BaseModel

    from scorelab.config import ExperimentConfig

    text = (DOCS / "config.md").read_text()
    script = _reference_script()

    def keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
        if model in seen:
            return set()
        seen.add(model)
        out = set(model.model_fields)
        for field in model.model_fields.values():
            for sub in script._models_in(field.annotation):
                out |= keys(sub, seen)
        return out

    missing = [k for k in sorted(keys(ExperimentConfig, set())) if f"| `{k}` |" not in text]
    assert missing == []
