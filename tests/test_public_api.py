"""What scorelab's __init__ promises: every public name is its home module's object,
documented, and importing scorelab loads no library until a name is used."""

from __future__ import annotations

import importlib
import subprocess
import sys

import scorelab


def test_every_public_name_is_the_object_of_its_home_module() -> None:
    lazy = scorelab._LAZY  # noqa: SLF001 - the package's own table of public names
    assert set(scorelab.__all__) == {*lazy, "ConfigError", "DataError", "OutputError",
                                     "ScorelabError", "UnknownModel", "__version__"}
    for name, (module, attribute) in lazy.items():
        assert getattr(scorelab, name) is getattr(importlib.import_module(module), attribute), \
            name


def test_every_public_name_is_documented() -> None:
    for name in scorelab.__all__:
        obj = getattr(scorelab, name)
        if callable(obj):
            assert len((obj.__doc__ or "").strip()) > 10, f"scorelab.{name} has no docstring"


def test_importing_scorelab_loads_no_library() -> None:
    code = ("import sys, scorelab; "
            "print(sorted(m for m in ('pandas', 'sklearn', 'lightgbm', 'scorelab.study') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        scorelab.does_not_exist  # noqa: B018
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")
