"""The row algebra of batching: count, compare layouts, merge and split row-aligned model data.

Row-aligned data is a DataFrame, a ``NumericTable``, an array with at least one dimension, or a dict of
such arrays with one row count. Merging concatenates along the rows; splitting cuts an output back by row counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pack.flavors.casts import column_dtypes
from pack.flavors.table import NumericTable, stack
from pack.types import Params, Predictor


def row_count(data: Any) -> int | None:
    """Rows in ``data`` when it is row-aligned (DataFrame, table, array, dict of arrays), else None."""
    if isinstance(data, NumericTable):
        return len(data)
    if isinstance(data, pd.DataFrame):
        return len(data)
    if isinstance(data, np.ndarray):
        return int(data.shape[0]) if data.ndim >= 1 else None
    if isinstance(data, Mapping) and data:
        counts = {v.shape[0] for v in data.values() if isinstance(v, np.ndarray) and v.ndim >= 1}
        if len(counts) == 1 and all(isinstance(v, np.ndarray) and v.ndim >= 1 for v in data.values()):
            return int(counts.pop())
    return None


def layout_of(data: Any) -> Hashable:
    """What must be equal for two inputs to merge: columns and dtypes, or trailing shapes and dtypes."""
    if isinstance(data, NumericTable):
        return data.layout
    if isinstance(data, pd.DataFrame):
        return ("frame", tuple(data.columns.tolist()), tuple(column_dtypes(data)))
    if isinstance(data, np.ndarray):
        return ("array", data.shape[1:], data.dtype)
    return ("tensors", tuple((key, value.shape[1:], value.dtype) for key, value in data.items()))


def merge(parts: Sequence[Any]) -> Any:
    """Concatenate inputs of one layout along the rows."""
    first = parts[0]
    if isinstance(first, NumericTable):
        return stack(parts)
    if isinstance(first, pd.DataFrame):
        dtypes = set(column_dtypes(first))
        if len(dtypes) == 1 and isinstance(dtype := dtypes.pop(), np.dtype) and dtype.kind in "biuf":
            values = np.concatenate([part.to_numpy() for part in parts])  # one block, no pandas concat
            return pd.DataFrame(values, columns=first.columns)
        return pd.concat(parts, ignore_index=True)
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    return {key: np.concatenate([part[key] for part in parts]) for key in first}


def split(output: Any, counts: Sequence[int]) -> list[Any] | None:
    """Cut a merged output back into per-request parts, or None if it is not row-aligned."""
    total = sum(counts)
    bounds = np.cumsum([0, *counts]).tolist()
    pairs = list(itertools.pairwise(bounds))
    if isinstance(output, np.ndarray):
        if output.ndim >= 1 and output.shape[0] == total:
            return [output[a:b] for a, b in pairs]
        return None
    if isinstance(output, (pd.DataFrame, pd.Series)):
        if len(output) == total:
            return [output.iloc[a:b].reset_index(drop=True) for a, b in pairs]
        return None
    if isinstance(output, (list, tuple)):
        return [list(output[a:b]) for a, b in pairs] if len(output) == total else None
    if isinstance(output, Mapping) and output:
        columns = {key: split(value, counts) for key, value in output.items()}
        if any(parts is None for parts in columns.values()):
            return None
        return [{key: parts[i] for key, parts in columns.items() if parts is not None} for i in range(len(counts))]
    return None


def same_output(a: Any, b: Any) -> bool:
    """True when two predictions are equal (NaN equal to NaN)."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            left, right = np.asarray(a), np.asarray(b)
            nan_ok = left.dtype.kind in "fc" and right.dtype.kind in "fc"
            return left.shape == right.shape and bool(np.array_equal(left, right, equal_nan=nan_ok))
        if isinstance(a, (pd.DataFrame, pd.Series)) and type(a) is type(b):
            return bool(a.reset_index(drop=True).equals(b.reset_index(drop=True)))
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            return a.keys() == b.keys() and all(same_output(a[k], b[k]) for k in a)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(same_output(x, y) for x, y in zip(a, b, strict=True))
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def supports_batching(predictor: Predictor, data: Any, params: Params | None, single: Any) -> bool:
    """Whether merging ``data`` with itself predicts ``single`` twice (the warm-up check).

    ``single`` is the prediction on ``data`` alone. A model whose output is not row-aligned, or
    depends on what else is in the batch, fails the check and is served without batching.
    """
    rows = row_count(data)
    if not rows:
        return False
    doubled = predictor.predict(merge([data, data]), params)
    parts = split(doubled, [rows, rows])
    return parts is not None and all(same_output(part, single) for part in parts)


__all__ = ["layout_of", "merge", "row_count", "same_output", "split", "supports_batching"]
