"""Every value cast of signature handling, in one place.

Two kinds, both refusing to change a value's meaning:

* wire casts (``cast_array``, ``cast_frame``): JSON and CSV carry no numeric widths, so numbers are cast
  to the dtypes the schema names (ints and doubles to ``float``, whole doubles to ``long``, ...) before
  enforcement decides; a cast that would change a value is simply not made.
* enforcement casts (``cast_column``, ``cast_tensor``, ``cast_param``): only safe conversions (integers
  widen, or narrow when every value fits; floats widen; ISO strings parse to ``datetime``; base64
  strings decode to ``binary``); anything else raises ``Refused``, which enforcement turns into a
  ``SchemaError`` naming the input.

``column_dtypes`` reads a frame's column dtypes without building a Series; it is the one place that
touches pandas internals, and falls back to the public ``DataFrame.dtypes``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import SchemaError
from pack.flavors.schema import ColSpec, DataType, ParamSpec, Schema, TensorSpec

INT32 = np.iinfo(np.int32)
INT64 = np.iinfo(np.int64)


class Refused(Exception):
    """A value or column cannot be converted safely; ``hint`` says why (may be empty)."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def exact_int_limit(dtype: np.dtype[Any]) -> int:
    """The largest magnitude up to which every integer is exact in a float dtype."""
    return int(2 ** (np.finfo(dtype).nmant + 1))


def fits(values: np.ndarray, low: float, high: float) -> bool:
    """True when every value lies in ``[low, high]`` (an empty array fits)."""
    return values.size == 0 or (values.min() >= low and values.max() <= high)


def column_dtypes(frame: pd.DataFrame) -> list[Any]:
    """The dtype of each column, in order.

    ``DataFrame.dtypes`` builds a Series (tens of microseconds, on every request); the block
    manager already holds the list, so it is read from there when this pandas has it.
    """
    get_dtypes = getattr(getattr(frame, "_mgr", None), "get_dtypes", None)
    if get_dtypes is not None:
        dtypes = list(get_dtypes())
        if len(dtypes) == frame.shape[1]:
            return dtypes
    return list(frame.dtypes)


# wire casts -------------------------------------------------------------------------------------------


def cast_array(array: np.ndarray, want: np.dtype[Any]) -> np.ndarray:
    """Cast wire numbers to ``want`` when no value changes meaning (floats may narrow)."""
    if array.dtype == want or want.kind not in "biuf":
        return array
    if want.kind == "f" and array.dtype.kind in "iuf":
        cast = array.astype(want)
        if array.dtype.kind == "f" and want.itemsize < array.dtype.itemsize and _overflowed(array, cast):
            return array  # e.g. 1e308 into float32: refused by enforcement, never silently infinite
        return cast
    if want.kind in "iu":
        if array.dtype.kind == "f" and (not np.isfinite(array).all() or (array != np.floor(array)).any()):
            return array
        info = np.iinfo(want)
        if array.size and (array.min() < info.min or array.max() > info.max):
            return array
        return array.astype(want)
    return array


def _overflowed(before: np.ndarray, after: np.ndarray) -> bool:
    """True when narrowing turned a finite value infinite."""
    finite = np.isfinite(after)
    return not finite.all() and bool((np.isfinite(before) & ~finite).any())


def cast_frame(frame: pd.DataFrame, schema: Schema | None) -> pd.DataFrame:
    """Cast numeric wire columns to the column types (or tensor dtypes) ``schema`` names."""
    if schema is not None and schema.is_tensor:
        return _cast_tensor_frame(frame, schema)
    if schema is None or not schema.has_names:
        return frame
    changes = {}
    names = frame.columns.tolist()
    dtypes = dict(zip(names, column_dtypes(frame), strict=True))
    for spec in schema:
        if not isinstance(spec, ColSpec) or not isinstance(spec.type, DataType):
            continue
        dtype = dtypes.get(spec.name)
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
            continue
        want = np.dtype(spec.type.numpy_dtype)
        if want.kind in "biuf" and dtype != want:
            cast = cast_array(frame[spec.name].to_numpy(), want)
            if cast.dtype == want:
                changes[spec.name] = cast
    if changes:
        frame = frame.copy(deep=False)
        for name, values in changes.items():
            frame[name] = values
    return frame


def _cast_tensor_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """A table sent to a tensor model: one tensor's columns, or one column per named tensor."""
    specs = [spec for spec in schema if isinstance(spec, TensorSpec)]
    if len(specs) == 1 and specs[0].name not in frame:
        want = specs[0].dtype
        if want in ("object", "str", "bytes") or frame.empty:
            return frame
        values = frame.to_numpy()
        if values.dtype.kind not in "biuf":
            return frame
        cast = cast_array(values, np.dtype(want))
        return frame if cast.dtype == values.dtype else pd.DataFrame(cast, columns=frame.columns)
    changes = {}
    for spec in specs:
        if spec.name not in frame or spec.dtype in ("object", "str", "bytes"):
            continue
        column = frame[spec.name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biuf":
            cast = cast_array(column.to_numpy(), np.dtype(spec.dtype))
            if cast.dtype != column.dtype:
                changes[spec.name] = cast
        elif len(column) and isinstance(column.iloc[0], (list, np.ndarray)):
            changes[spec.name] = _cast_cells(column.to_numpy(), spec)
    if changes:
        frame = frame.copy(deep=False)
        for name, values in changes.items():
            frame[name] = values
    return frame


def _cast_cells(cells: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """A column whose cells are rows of one tensor (lists), each cast to the tensor's dtype."""
    try:
        rows = np.asarray(cells.tolist())
    except ValueError:
        raise SchemaError(
            f"Input {spec.name!r}: expected shape {shape_text(spec)}, got nested lists of different lengths."
        ) from None
    if rows.dtype.kind in "biuf":
        rows = cast_array(rows, np.dtype(spec.dtype))
    out = np.empty(len(rows), dtype=object)
    for index, row in enumerate(rows):
        out[index] = row
    return out


def shape_text(spec: TensorSpec) -> str:
    """A tensor spec's shape as errors show it, e.g. ``(-1, 28, 28)``."""
    return "(" + ", ".join(str(d) for d in spec.shape) + ")"


# enforcement casts: columns ------------------------------------------------------------------------------


def cast_column(series: pd.Series, target: DataType) -> pd.Series:
    """``series`` safely converted to ``target`` (unchanged when it already is).

    Raises:
        Refused: no safe conversion.
    """
    return _CONVERTERS[target](series)  # type: ignore[no-any-return]


def _as_numpy_numeric(series: pd.Series) -> np.ndarray:
    """The values as a plain numpy array, refusing columns with missing values in nullable dtypes."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "O":
            inferred = pd.api.types.infer_dtype(series, skipna=False)
            if inferred in ("integer", "floating", "mixed-integer-float", "boolean"):
                return np.asarray(series.to_list())
            raise Refused()
        values: np.ndarray = series.to_numpy()
        return values
    if hasattr(dtype, "numpy_dtype"):
        if series.isna().any():
            raise Refused("The column has missing values; declare it as double to accept them.")
        converted: np.ndarray = series.to_numpy(dtype=dtype.numpy_dtype)
        return converted
    raise Refused()


def _to_integer(bits: int) -> Any:
    info = INT32 if bits == 32 else INT64
    target = np.int32 if bits == 32 else np.int64

    def convert(series: pd.Series) -> pd.Series:
        values = _as_numpy_numeric(series)
        if values.dtype.kind == "f":
            hint = " The column has missing values (NaN); declare it as double." if np.isnan(values).any() else ""
            raise Refused(hint.strip())
        if values.dtype.kind not in "iu" or not fits(values, info.min, info.max):
            raise Refused()
        return pd.Series(values.astype(target, copy=False), index=series.index, name=series.name)

    return convert


def _to_floating(target: np.dtype[Any]) -> Any:
    def convert(series: pd.Series) -> pd.Series:
        dtype = series.dtype
        if (
            hasattr(dtype, "numpy_dtype")
            and not isinstance(dtype, np.dtype)
            and np.dtype(dtype.numpy_dtype).kind == "f"
        ):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            values = _as_numpy_numeric(series)
        if values.dtype.kind == "f":
            if values.dtype.itemsize > target.itemsize:
                raise Refused()
        elif values.dtype.kind in "iu":
            limit = exact_int_limit(target)
            if values.dtype.itemsize * 8 > np.finfo(target).nmant + 1 and not fits(values, -limit, limit):
                raise Refused()
        else:
            raise Refused()
        return pd.Series(values.astype(target, copy=False), index=series.index, name=series.name)

    return convert


def _to_boolean(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, pd.BooleanDtype) and not series.isna().any():
        return series.astype(bool)
    if (
        isinstance(dtype, np.dtype)
        and dtype.kind == "O"
        and pd.api.types.infer_dtype(series, skipna=False) == "boolean"
    ):
        return series.astype(bool)
    raise Refused()


def _to_string(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return series
    if (
        isinstance(dtype, np.dtype)
        and dtype.kind in "OU"
        and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    ):
        return series
    raise Refused()


def _to_binary(series: pd.Series) -> pd.Series:
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("bytes", "empty"):
        return series
    if kind == "string":
        try:
            return series.map(lambda v: v if v is None else base64.b64decode(v, validate=True))
        except (binascii.Error, ValueError):
            raise Refused("Binary values must be bytes or base64 strings.") from None
    raise Refused()


def _to_datetime(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, (np.dtype, pd.DatetimeTZDtype)) and dtype.kind == "M":
        return series.astype("datetime64[ns]") if isinstance(dtype, np.dtype) else series
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("string", "datetime", "datetime64", "date", "empty"):
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError):
            raise Refused("Datetime values must be ISO-8601 strings.") from None
    raise Refused()


_CONVERTERS: dict[DataType, Any] = {
    DataType.boolean: _to_boolean,
    DataType.integer: _to_integer(32),
    DataType.long: _to_integer(64),
    DataType.float: _to_floating(np.dtype("float32")),
    DataType.double: _to_floating(np.dtype("float64")),
    DataType.string: _to_string,
    DataType.binary: _to_binary,
    DataType.datetime: _to_datetime,
}


# enforcement casts: tensors and params -----------------------------------------------------------------


def cast_tensor(array: np.ndarray, want: np.dtype[Any]) -> np.ndarray:
    """``array`` as ``want`` when no value changes: safe casts, or integers that fit.

    Raises:
        Refused: no safe conversion.
    """
    if array.dtype == want:
        return array
    if np.can_cast(array.dtype, want, "safe"):
        return array.astype(want)
    if array.dtype.kind in "iu" and want.kind == "f":
        limit = exact_int_limit(want)
        if fits(array, -limit, limit):
            return array.astype(want)
    if array.dtype.kind in "iu" and want.kind in "iu":
        info = np.iinfo(want)
        if fits(array, info.min, info.max):
            return array.astype(want)
    raise Refused()


def cast_param(spec: ParamSpec, value: Any) -> Any:
    """A param value as its spec's type (a list of them for a shaped spec).

    Raises:
        Refused: the value (or an item) cannot be converted safely; ``hint`` says why.
    """
    if spec.shape is None:
        if isinstance(value, (list, tuple, np.ndarray)):
            raise Refused(f"expected a scalar {spec.type.value}, got a list")
        return _convert_scalar(spec.type, value)
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise Refused(f"expected a list of {spec.type.value}, got {type(value).__name__}")
    return [_convert_scalar(spec.type, item) for item in value]


def _convert_scalar(kind: DataType, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    ok: Any
    if kind is DataType.boolean:
        ok = isinstance(value, bool)
    elif kind in (DataType.integer, DataType.long):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and kind is DataType.integer and not INT32.min <= value <= INT32.max:
            raise Refused(f"value {value} does not fit in integer")
    elif kind in (DataType.float, DataType.double):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is DataType.string:
        ok = isinstance(value, str)
    elif kind is DataType.binary:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise Refused("expected base64-encoded binary") from None
        ok = isinstance(value, bytes)
    else:  # datetime
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                raise Refused(f"expected an ISO-8601 datetime, got {value!r}") from None
        ok = isinstance(value, dt.datetime)
    if not ok:
        raise Refused(f"expected {kind.value}, got {type(value).__name__} {value!r}")
    return value


__all__ = [
    "INT32",
    "INT64",
    "Refused",
    "cast_array",
    "cast_column",
    "cast_frame",
    "cast_param",
    "cast_tensor",
    "column_dtypes",
    "exact_int_limit",
    "fits",
    "shape_text",
]
