"""Safe saving and loading of fitted scorelab estimators (skops format, never pickle).

Users exchange run directories, and unpickling a file runs whatever code it names, so a
fitted model is written with :mod:`skops.io` instead: a zip of JSON and ``.npy`` arrays
from which only the types listed in :data:`TRUSTED_TYPES` (scorelab's own estimators and
the parts each family declares it persists) are ever rebuilt. A
LightGBM booster is also written beside the model as LightGBM's own text format, an
interoperable copy of the trees (raw scores, before any scorelab recalibration or added
input column); the ``.skops`` file is the model.

skops cannot store pandas objects: :mod:`scorelab.models.plain` turns them into plain
arrays in each estimator's ``__getstate__`` and back in ``__setstate__``.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from scorelab.core.messages import one_line
from scorelab.exceptions import DataError, OutputError
from scorelab.models.base import ScorelabClassifier
from scorelab.models.registry import trusted_types

__all__ = ["TRUSTED_TYPES", "load_model", "save_model"]

#: Every type a saved scorelab estimator may name beyond the builtins and numpy types
#: skops trusts itself: the registered families and the types each declares it persists
#: (``persisted_types``); no prefix rule. A file naming any other type is refused.
TRUSTED_TYPES: tuple[str, ...] = trusted_types()

_MESSAGE = ("scorelab loads only its own estimators and their scikit-learn, LightGBM, "
            "optbinning and fairlearn parts")


# --------------------------------------------------------------------------- save / load


def save_model(estimator: Any, path: Path) -> list[Path]:
    """Write a fitted estimator to ``path`` (a ``.skops`` file) and its LightGBM boosters.

    Parameters
    ----------
    estimator : a fitted scorelab estimator.
    path : the ``.skops`` file to write (overwritten if it exists).

    Returns
    -------
    The paths written: ``path``, then one LightGBM text model per booster found
    (``<stem>.booster.txt`` for the estimator's own, ``<stem>.<where>.booster.txt``
    for a component's, e.g. ``model.estimators.1.booster.txt``).
    """
    import skops.io as sio

    path = Path(path)
    if path.suffix != ".skops":
        raise OutputError(f"model file '{path}': must end with .skops")
    try:
        sio.dump(estimator, path, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        written = [path]
        for where, booster in _boosters(estimator, []):
            name = ".".join([path.stem, *where, "booster.txt"])
            booster.save_model(path.with_name(name))
            written.append(path.with_name(name))
    except OSError as exc:
        raise OutputError(f"model file '{path}': cannot write it ({_one_line(exc)})") from exc
    return written


def load_model(path: Path) -> Any:
    """Load an estimator written by :func:`save_model`, refusing any untrusted type.

    Raises
    ------
    DataError
        The file is missing or corrupt, names a type outside :data:`TRUSTED_TYPES`, or
        does not hold a scorelab estimator.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise DataError(f"model file '{path}': cannot read it (no such file)")
    data = path.read_bytes()  # read once: what is checked is what is loaded
    try:
        untrusted = sio.get_untrusted_types(data=data)
        named = _types_in(data)
    except Exception as exc:  # a truncated or foreign file, whatever the reason
        raise DataError(f"model file '{path}': cannot read it as a scorelab model "
                        f"({_one_line(exc)})") from exc
    refused = sorted((set(untrusted) | named) - set(TRUSTED_TYPES))
    if refused:
        raise DataError(f"model file '{path}': refusing to load untrusted type(s) "
                        f"{', '.join(refused)} ({_MESSAGE})")
    try:
        model = sio.loads(data, trusted=untrusted)
    except Exception as exc:  # trusted types only: a corrupt state, not a hostile one
        raise DataError(f"model file '{path}': cannot load it ({_one_line(exc)})") from exc
    if not isinstance(model, ScorelabClassifier):
        raise DataError(f"model file '{path}': holds a {type(model).__name__}, not a "
                        f"scorelab estimator ({_MESSAGE})")
    return model


def _types_in(data: bytes) -> set[str]:
    """Every type the file's schema names, except builtins and numpy ones.

    skops itself trusts every scikit-learn estimator; scorelab only the parts its own
    estimators use, so these names are checked too. (Functions and other builtins or
    numpy names skops does not trust are in its own list of untrusted types.)
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    out: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, name = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(name, str) and \
                    module.partition(".")[0] not in ("builtins", "numpy"):
                out.add(f"{module}.{name}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def _boosters(obj: Any, where: list[str]) -> list[tuple[list[str], Any]]:
    """(location, booster) of every LightGBM booster in ``obj`` and its fitted parts."""
    import lightgbm as lgb

    out = []
    if isinstance(getattr(obj, "booster_", None), lgb.Booster):
        out.append((where, obj.booster_))
    for attr, value in sorted(vars(obj).items()):
        if not attr.endswith("_") or attr.startswith("_"):
            continue
        label = attr.rstrip("_")
        items = list(enumerate(value)) if isinstance(value, list | tuple) else [(None, value)]
        for i, item in items:
            if isinstance(item, ScorelabClassifier):
                out.extend(_boosters(item, [*where, label, *([] if i is None else [str(i)])]))
    return out


def _one_line(exc: BaseException) -> str:
    return one_line(f"{type(exc).__name__}: {exc}")
