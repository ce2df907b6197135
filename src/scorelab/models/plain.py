"""Pandas objects as plain data and back, for saving estimators without pickle.

skops cannot store pandas objects, and every scorelab family but Suining holds some
(categories, coefficient and scorecard tables, optbinning's Arrow-backed strings), so
``ScorelabClassifier.__getstate__`` hands skops a copy of its state in which each pandas
object is a tagged dict of plain arrays, and ``__setstate__`` rebuilds it exactly (same
type, dtype, index and name). Both round trips are exact (tests/models/test_persist.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray
from sklearn.base import BaseEstimator

__all__ = ["from_plain", "to_plain"]

_PANDAS = "__scorelab_pandas__"  # tag of a pandas object stored as plain data


def to_plain(value: Any, _memo: dict[int, Any] | None = None) -> Any:
    """``value`` with every pandas object in it stored as plain data (a tagged dict).

    Goes through dicts, lists, tuples, object arrays and the attributes of plain objects
    (an optbinning table, say; not objects with state methods of their own, such as a
    scorelab estimator or a LightGBM booster), copying only what holds a pandas object:
    ``value`` itself is never changed. Supported: Index, RangeIndex, CategoricalIndex,
    Series, DataFrame, Categorical and string arrays of numpy, ``str`` and ``category``
    dtypes; any other pandas object is left as it is (pickle takes it, skops refuses it).
    """
    memo = {} if _memo is None else _memo
    if id(value) in memo:
        return memo[id(value)]
    memo[id(value)] = value  # a cycle back to value sees it unconverted
    out = value
    if isinstance(value, pd.Index | pd.Series | pd.DataFrame | ExtensionArray):
        out = _pandas_to_plain(value) or value
    elif type(value) is dict:
        new = {k: to_plain(v, memo) for k, v in value.items()}
        out = new if any(new[k] is not value[k] for k in value) else value
    elif type(value) in (list, tuple):
        items = [to_plain(v, memo) for v in value]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            out = type(value)(items)
    elif isinstance(value, np.ndarray) and value.dtype == object:
        flat = [to_plain(v, memo) for v in value.flat]
        if any(a is not b for a, b in zip(flat, value.flat, strict=True)):
            out = np.empty(value.shape, dtype=object)
            for i, item in enumerate(flat):  # one by one: an item is never broadcast
                out.flat[i] = item
    elif _is_plain_object(value):
        attrs = vars(value)
        new = {k: to_plain(v, memo) for k, v in attrs.items()}
        if any(new[k] is not attrs[k] for k in attrs):
            out = type(value).__new__(type(value))  # as skops and pickle rebuild it
            out.__dict__.update(new)
    memo[id(value)] = out
    return out


def from_plain(value: Any, _memo: dict[int, Any] | None = None) -> Any:
    """The inverse of :func:`to_plain`: every tagged dict rebuilt as its pandas object.

    What holds a tagged dict is a copy made by :func:`to_plain` (and rebuilt by skops or
    pickle), so it is updated in place; a tuple is rebuilt.
    """
    if type(value) is dict and _PANDAS in value:
        return _plain_to_pandas(value)
    memo = {} if _memo is None else _memo
    if id(value) in memo:
        return memo[id(value)]
    memo[id(value)] = value
    if type(value) is tuple:
        items = [from_plain(v, memo) for v in value]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            memo[id(value)] = tuple(items)
    elif isinstance(value, np.ndarray) and value.dtype == object:
        for i, item in enumerate(list(value.flat)):
            new = from_plain(item, memo)
            if new is not item:
                value.flat[i] = new
    else:
        target = value if type(value) in (dict, list) else \
            vars(value) if _is_plain_object(value) else None
        for key in (range(len(target)) if type(target) is list else list(target or ())):
            new = from_plain(target[key], memo)
            if new is not target[key]:
                target[key] = new
    return memo[id(value)]


def _is_plain_object(value: Any) -> bool:
    """An object skops and pickle store as its ``__dict__`` (no state methods of its own)."""
    cls = type(value)
    return (cls.__module__ != "builtins" and not isinstance(value, type)
            and type(getattr(value, "__dict__", None)) is dict
            and not getattr(cls, "__slots__", None)
            and getattr(cls, "__getstate__", None) in _DEFAULT_STATE_METHODS
            and getattr(cls, "__setstate__", None) in _DEFAULT_STATE_METHODS
            and cls.__reduce_ex__ is object.__reduce_ex__ and cls.__reduce__ is object.__reduce__)


_DEFAULT_STATE_METHODS = (None, object.__getstate__, BaseEstimator.__getstate__,
                          BaseEstimator.__setstate__)


def _dtype_to_plain(dtype: Any) -> Any:
    if isinstance(dtype, np.dtype):
        return None if dtype.hasobject and dtype.kind != "O" else dtype.str
    if isinstance(dtype, pd.StringDtype):
        return {"kind": "str", "storage": dtype.storage, "nan": dtype.na_value is not pd.NA}
    if isinstance(dtype, pd.CategoricalDtype):
        categories = _pandas_to_plain(dtype.categories)
        return None if categories is None else \
            {"kind": "category", "categories": categories, "ordered": bool(dtype.ordered)}
    return None


def _dtype_from_plain(plain: Any) -> Any:
    if isinstance(plain, str):
        return np.dtype(plain)
    if plain["kind"] == "str":
        return pd.StringDtype(plain["storage"], na_value=np.nan if plain["nan"] else pd.NA)
    return pd.CategoricalDtype(_plain_to_pandas(plain["categories"]), plain["ordered"])


def _values_to_plain(values: pd.Index | pd.Series) -> tuple[Any, np.ndarray] | None:
    """(dtype, array) of a 1-D pandas object: codes for categories, None for missing str."""
    dtype = _dtype_to_plain(values.dtype)
    if dtype is None:
        return None
    if isinstance(values.dtype, pd.CategoricalDtype):
        return dtype, np.asarray(values.array.codes)
    if isinstance(values.dtype, pd.StringDtype):
        return dtype, np.asarray(values.astype(object).where(values.notna(), None),
                                 dtype=object)
    array = values.to_numpy(copy=True)
    return dtype, to_plain(array) if array.dtype.kind == "O" else array  # items may be pandas


def _values_from_plain(dtype_plain: Any, array: np.ndarray) -> Any:
    """The array of a 1-D pandas object, of its own dtype (never inferred)."""
    dtype = _dtype_from_plain(dtype_plain)
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(array, dtype=dtype)
    if isinstance(dtype, pd.StringDtype):
        return pd.array(array, dtype=dtype)
    return from_plain(array) if dtype.kind == "O" else np.asarray(array, dtype=dtype)


def _pandas_to_plain(obj: Any) -> dict[str, Any] | None:
    """A tagged dict holding ``obj``, or None when ``obj`` is not supported."""
    if isinstance(obj, pd.RangeIndex):
        return {_PANDAS: "RangeIndex", "start": obj.start, "stop": obj.stop,
                "step": obj.step, "name": obj.name}
    if isinstance(obj, ExtensionArray):
        supported = type(obj) is pd.Categorical or isinstance(obj.dtype, pd.StringDtype)
        values = _values_to_plain(pd.Series(obj, copy=False)) if supported else None
        return None if values is None else \
            {_PANDAS: "array", "dtype": values[0], "values": values[1]}
    if type(obj) in (pd.Index, pd.CategoricalIndex):
        values = _values_to_plain(obj)
        return None if values is None else \
            {_PANDAS: "Index", "dtype": values[0], "values": values[1], "name": obj.name}
    if type(obj) is pd.Series and not obj.attrs:
        values, index = _values_to_plain(obj), _pandas_to_plain(obj.index)
        return None if values is None or index is None else \
            {_PANDAS: "Series", "dtype": values[0], "values": values[1], "index": index,
             "name": obj.name}
    if type(obj) is pd.DataFrame and not obj.attrs:
        columns = [_values_to_plain(obj.iloc[:, j]) for j in range(obj.shape[1])]
        index, names = _pandas_to_plain(obj.index), _pandas_to_plain(obj.columns)
        if index is None or names is None or any(c is None for c in columns):
            return None
        return {_PANDAS: "DataFrame", "index": index, "columns": names,
                "dtypes": [c[0] for c in columns], "values": [c[1] for c in columns]}
    return None


def _plain_to_pandas(plain: dict[str, Any]) -> Any:
    kind = plain[_PANDAS]
    if kind == "RangeIndex":
        return pd.RangeIndex(plain["start"], plain["stop"], plain["step"], name=plain["name"])
    if kind == "array":
        return _values_from_plain(plain["dtype"], plain["values"])
    if kind == "Index":
        values = _values_from_plain(plain["dtype"], plain["values"])
        return pd.Index(values, dtype=values.dtype, name=plain["name"], copy=False)
    index = _plain_to_pandas(plain["index"])
    if kind == "Series":
        values = _values_from_plain(plain["dtype"], plain["values"])
        return pd.Series(values, dtype=values.dtype, index=index, name=plain["name"],
                         copy=False)
    if kind == "DataFrame":
        columns = [_values_from_plain(d, v)
                   for d, v in zip(plain["dtypes"], plain["values"], strict=True)]
        frame = pd.DataFrame({j: pd.Series(v, dtype=v.dtype, copy=False)
                              for j, v in enumerate(columns)}, index=pd.RangeIndex(len(index)))
        frame.index = index
        frame.columns = _plain_to_pandas(plain["columns"])
        return frame
    raise ValueError(f"unknown stored pandas object {kind!r}")
