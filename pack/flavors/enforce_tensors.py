"""Enforcing a tensor schema: every input present, rank and fixed dimensions equal, dtype safe.

Errors name the input, the expected and the received shape or dtype. A table (DataFrame, Series)
carries pandas' default widths, not chosen ones, so its floats are cast to the tensor's float type,
as JSON and CSV payloads are; arrays keep their dtype and convert only safely.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import SchemaError, SchemaWarning
from pack.flavors.casts import Refused, cast_tensor, shape_text
from pack.flavors.schema import Schema, TensorSpec


def enforce_tensors(schema: Schema, data: Any) -> Any:
    specs: list[TensorSpec] = [spec for spec in schema.specs if isinstance(spec, TensorSpec)]
    table = isinstance(data, (pd.DataFrame, pd.Series))
    if not schema.has_names or (len(specs) == 1 and not isinstance(data, Mapping)):
        if isinstance(data, Mapping):
            if len(data) != 1:
                raise SchemaError(f"Model expects a single tensor, got inputs {sorted(data)}")
            data = next(iter(data.values()))
        label = specs[0].name or "input"
        return _check_tensor(specs[0], _as_array(data, label), label, table=table)
    if isinstance(data, pd.DataFrame):  # a column per input; (n, 1) inputs get it as a column vector
        shapes = {spec.name: spec.shape for spec in specs}
        data = {str(col): _column_tensor(data[col], shapes.get(str(col))) for col in data.columns}
    if not isinstance(data, Mapping):
        raise SchemaError(
            f"Model expects named tensors {schema.names}; send a dict of arrays, got {type(data).__name__}"
        )
    names = [spec.name for spec in specs]
    missing = [name for name in names if name not in data]
    if missing:
        raise SchemaError(f"Model is missing inputs {missing}.")
    extra = [key for key in data if key not in names]
    if extra:
        warnings.warn(f"Dropping inputs not in the model's signature: {extra}", SchemaWarning, stacklevel=3)
    return {
        spec.name: _check_tensor(spec, _as_array(data[spec.name], spec.name), spec.name, table=table)
        for spec in specs
        if spec.name is not None
    }


def _column_tensor(column: pd.Series, shape: tuple[int, ...] | None = None) -> np.ndarray:
    values: np.ndarray = column.to_numpy()
    if values.dtype.kind == "O" and len(values) and isinstance(values[0], (list, np.ndarray)):
        return np.stack([np.asarray(v) for v in values])
    if shape is not None and len(shape) == 2 and shape[1] == 1:
        return values.reshape(-1, 1)
    return values


def _as_array(data: Any, name: str) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (pd.DataFrame, pd.Series)):
        values: np.ndarray = data.to_numpy()
        return values
    try:
        return np.asarray(data)
    except ValueError as exc:
        raise SchemaError(f"input {name!r} is not a rectangular array: {exc}") from None


def _check_tensor(spec: TensorSpec, array: np.ndarray, name: str, *, table: bool = False) -> np.ndarray:
    shape = shape_text(spec)
    if array.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=True)
    ):
        raise SchemaError(f"Input {name!r}: expected shape {shape}, got {tuple(array.shape)}.")
    if spec.dtype in ("object", "str", "bytes"):
        return array
    want = np.dtype(spec.dtype)
    if table and array.dtype.kind == want.kind == "f":
        return array.astype(want)
    try:
        return cast_tensor(array, want)
    except Refused:
        raise SchemaError(f"Input {name!r}: expected dtype {want.name}, got {_dtype_label(array)}.") from None


def _dtype_label(array: np.ndarray) -> str:
    """The dtype as a client would name it: ``str`` rather than numpy's ``str352`` or ``object``."""
    kind = array.dtype.kind
    if kind == "U":
        return "str"
    if kind == "S":
        return "bytes"
    if kind == "O":
        inferred = pd.api.types.infer_dtype(array.ravel(), skipna=True)
        return {"string": "str", "bytes": "bytes"}.get(inferred, "object")
    return str(array.dtype.name)


__all__ = ["enforce_tensors"]
