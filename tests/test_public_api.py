"""Everything scorelab's __init__ promises is importable."""

from __future__ import annotations

import scorelab


def test_every_public_name_resolves() -> None:
    for name in scorelab.__all__:
        assert getattr(scorelab, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        scorelab.does_not_exist  # noqa: B018
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")
