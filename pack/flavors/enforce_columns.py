"""Enforcing a column schema: coerce the input to a DataFrame, check and safely convert each column.

* A missing required column is an error naming it; optional columns may be absent.
* Extra columns are dropped with a ``SchemaWarning``.
* Only safe conversions happen: integers widen (to ``long``, ``double``, or a narrower type when every
  value fits), floats widen (``float`` -> ``double``), ISO strings parse to ``datetime``, base64 strings
  decode to ``binary``. Anything else (``double`` -> ``long``, ``string`` -> ``double``, ...) is a
  ``SchemaError`` naming the column and both types.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import SchemaError, SchemaWarning
from pack.flavors.casts import Refused, cast_column, column_dtypes
from pack.flavors.schema import ColSpec, DataType, Schema
from pack.flavors.table import NumericTable


def to_dataframe(data: Any, schema: Schema | None = None) -> pd.DataFrame:
    """Coerce the accepted input containers to a DataFrame (positional names from ``schema``)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    names = schema.names if schema is not None and schema.has_names else None
    if isinstance(data, Mapping):
        if all(np.ndim(value) == 0 for value in data.values()):
            return pd.DataFrame({key: [value] for key, value in data.items()})
        try:
            return pd.DataFrame({key: _column_values(value) for key, value in data.items()})
        except ValueError as exc:
            raise SchemaError(f"cannot build a table from the input dict: {exc}") from None
    if isinstance(data, list) and data and all(isinstance(item, Mapping) for item in data):
        return pd.DataFrame.from_records(data)
    if isinstance(data, (list, tuple, np.ndarray)):
        array = data if isinstance(data, np.ndarray) else _list_to_array(data)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2:
            raise SchemaError(f"expected a table of rows, got an array of shape {array.shape}")
        columns = names if names is not None and len(names) == array.shape[1] else None
        return pd.DataFrame(array, columns=columns)
    if np.ndim(data) == 0 and data is not None:
        return pd.DataFrame({(names[0] if names else 0): [data]})
    raise SchemaError(
        f"unsupported input type {type(data).__name__}: expected a DataFrame, dict, list of records, "
        "list or numpy array"
    )


def _column_values(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim > 1:
        return list(value)
    return value


def _list_to_array(rows: list[Any] | tuple[Any, ...]) -> np.ndarray:
    try:
        return np.asarray(rows)
    except ValueError:
        return np.asarray(rows, dtype=object)


def enforce_columns(schema: Schema, data: Any) -> pd.DataFrame | NumericTable:
    if isinstance(data, NumericTable):
        table = _enforce_table(schema, data)
        if table is not None:
            return table
        data = data.to_frame()  # anything else: the general rules decide (and name what is wrong)
    frame = to_dataframe(data, schema)
    specs: list[ColSpec] = [spec for spec in schema.specs if isinstance(spec, ColSpec)]
    names = frame.columns.tolist()  # iterate the column index once (it may be Arrow-backed)
    if schema.has_names:
        present = set(names)
        missing = [spec.name for spec in specs if spec.required and spec.name not in present]
        wanted = {spec.name for spec in specs}
        extra = [col for col in names if col not in wanted]
        if missing:
            note = f" Note that there were extra inputs: {extra}." if extra else ""
            raise SchemaError(f"Model is missing inputs {missing}.{note}")
        if extra:
            warnings.warn(f"Dropping input columns not in the model's signature: {extra}", SchemaWarning, stacklevel=3)
        pairs = [(spec, spec.name) for spec in specs if spec.name in present]
    else:
        if frame.shape[1] < len(specs):
            raise SchemaError(f"Model expects {len(specs)} input columns, got {frame.shape[1]}.")
        if frame.shape[1] > len(specs):
            warnings.warn(
                f"Dropping {frame.shape[1] - len(specs)} input columns beyond the model's signature",
                SchemaWarning,
                stacklevel=3,
            )
        pairs = list(zip(specs, names[: len(specs)], strict=True))
    columns = [name for _, name in pairs]
    changed: dict[Any, pd.Series] = {}
    dtypes = dict(zip(names, column_dtypes(frame), strict=True))
    for spec, name in pairs:
        if _already_matches(dtypes[name], spec):
            continue
        column = frame[name]
        converted = _convert_column(column, spec, str(name))
        if converted is not column:
            changed[name] = converted
    if names != columns:
        frame = frame[columns]
    if changed:
        frame = frame.copy(deep=False)  # never modify the caller's frame
        for name, series in changed.items():
            frame[name] = series
    return frame


def _enforce_table(schema: Schema, table: NumericTable) -> NumericTable | None:
    """The table when it holds exactly the schema's columns, in order, with a dtype that is the schema's
    one numeric type or widens to it safely (no value checks needed); else None."""
    uniform = schema.uniform_columns
    if uniform is None or table.columns != uniform[1]:
        return None
    want = _NUMPY_DTYPES[uniform[0]]
    values = table.values
    if values.dtype == want:
        return table
    if values.dtype.kind in "iuf" and np.can_cast(values.dtype, want, "safe"):
        return NumericTable(values.astype(want), table.columns)
    return None


def _already_matches(dtype: Any, spec: ColSpec) -> bool:
    """True when a column of ``dtype`` passes ``spec`` unchanged (decided without touching its values)."""
    target = spec.type
    if not isinstance(target, DataType):
        return True  # composite types (array/object/map/any) are passed through unchecked
    return (
        isinstance(dtype, np.dtype)
        and dtype == _NUMPY_DTYPES[target]
        and target not in (DataType.string, DataType.binary)
    )


_NUMPY_DTYPES = {kind: np.dtype(kind.numpy_dtype) for kind in DataType}


def _convert_column(series: pd.Series, spec: ColSpec, name: str) -> pd.Series:
    target = spec.type
    if not isinstance(target, DataType) or _already_matches(series.dtype, spec):
        return series
    try:
        converted = cast_column(series, target)
    except Refused as refused:
        hint = f" {refused.hint}" if refused.hint else ""
        raise SchemaError(
            f"Incompatible input types for column {name!r}: cannot safely convert "
            f"{_describe(series)} to {target.value}.{hint}"
        ) from None
    return converted


def _describe(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        kind = pd.api.types.infer_dtype(series, skipna=True)
        return f"{kind} (object)"
    return str(dtype)


__all__ = ["enforce_columns", "to_dataframe"]
