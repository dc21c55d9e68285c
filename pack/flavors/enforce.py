"""Signature enforcement at predict time.

Rules (MLflow's, made explicit):

* A missing required column or tensor is an error naming it; optional columns may be absent.
* Extra columns or tensors are dropped with a ``SchemaWarning``.
* Only safe conversions happen: integers widen (to ``long``, ``double``, or a narrower type when every
  value fits), floats widen (``float`` -> ``double``), ISO strings parse to ``datetime``, base64 strings
  decode to ``binary``. Anything else (``double`` -> ``long``, ``string`` -> ``double``, ...) is a
  ``SchemaError`` naming the column and both types.
* Params: missing ones take their default, unknown ones are ignored with a warning, values convert
  only safely (``int`` -> ``double``, ...); violations are one ``SchemaError`` listing them all.

Wire formats (JSON, CSV) carry no numeric widths; the serving codecs cast to the schema's dtypes
before enforcement, as MLflow's scoring server does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import SchemaError, SchemaWarning
from pack.flavors.schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

_INT32 = np.iinfo(np.int32)
_INT64 = np.iinfo(np.int64)


def _exact_int_limit(dtype: np.dtype[Any]) -> int:
    """The largest magnitude up to which every integer is exact in a float dtype."""
    return int(2 ** (np.finfo(dtype).nmant + 1))


def enforce_input(schema: Schema, data: Any) -> Any:
    """Check and convert ``data`` to what ``schema`` describes.

    Column schemas return a DataFrame with exactly the schema's (present) columns in order; tensor
    schemas return an ndarray or a dict of ndarrays, matching the input's container.

    Raises:
        SchemaError: the data violates the schema.
    """
    if schema.is_tensor:
        return _enforce_tensors(schema, data)
    return _enforce_columns(schema, data)


# ---------------------------------------------------------------------------------------------
# column schemas


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


def _column_values(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim > 1:
        return list(value)
    return value


def _list_to_array(rows: list[Any] | tuple[Any, ...]) -> np.ndarray:
    try:
        return np.asarray(rows)
    except ValueError:
        return np.asarray(rows, dtype=object)


def _enforce_columns(schema: Schema, data: Any) -> pd.DataFrame:
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
        converted = _CONVERTERS[target](series)
    except _Refused as refused:
        hint = f" {refused.hint}" if refused.hint else ""
        raise SchemaError(
            f"Incompatible input types for column {name!r}: cannot safely convert "
            f"{_describe(series)} to {target.value}.{hint}"
        ) from None
    return converted


class _Refused(Exception):
    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def _describe(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        kind = pd.api.types.infer_dtype(series, skipna=True)
        return f"{kind} (object)"
    return str(dtype)


def _as_numpy_numeric(series: pd.Series) -> np.ndarray:
    """The values as a plain numpy array, refusing columns with missing values in nullable dtypes."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "O":
            inferred = pd.api.types.infer_dtype(series, skipna=False)
            if inferred in ("integer", "floating", "mixed-integer-float", "boolean"):
                return np.asarray(series.to_list())
            raise _Refused()
        values: np.ndarray = series.to_numpy()
        return values
    if hasattr(dtype, "numpy_dtype"):
        if series.isna().any():
            raise _Refused("The column has missing values; declare it as double to accept them.")
        converted: np.ndarray = series.to_numpy(dtype=dtype.numpy_dtype)
        return converted
    raise _Refused()


def _fits(values: np.ndarray, low: float, high: float) -> bool:
    return values.size == 0 or (values.min() >= low and values.max() <= high)


def _to_integer(bits: int) -> Any:
    info = _INT32 if bits == 32 else _INT64
    target = np.int32 if bits == 32 else np.int64

    def convert(series: pd.Series) -> pd.Series:
        values = _as_numpy_numeric(series)
        if values.dtype.kind == "f":
            hint = " The column has missing values (NaN); declare it as double." if np.isnan(values).any() else ""
            raise _Refused(hint.strip())
        if values.dtype.kind not in "iu" or not _fits(values, info.min, info.max):
            raise _Refused()
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
                raise _Refused()
        elif values.dtype.kind in "iu":
            limit = _exact_int_limit(target)
            if values.dtype.itemsize * 8 > np.finfo(target).nmant + 1 and not _fits(values, -limit, limit):
                raise _Refused()
        else:
            raise _Refused()
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
    raise _Refused()


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
    raise _Refused()


def _to_binary(series: pd.Series) -> pd.Series:
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("bytes", "empty"):
        return series
    if kind == "string":
        try:
            return series.map(lambda v: v if v is None else base64.b64decode(v, validate=True))
        except (binascii.Error, ValueError):
            raise _Refused("Binary values must be bytes or base64 strings.") from None
    raise _Refused()


def _to_datetime(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, (np.dtype, pd.DatetimeTZDtype)) and dtype.kind == "M":
        return series.astype("datetime64[ns]") if isinstance(dtype, np.dtype) else series
    kind = pd.api.types.infer_dtype(series, skipna=True)
    if kind in ("string", "datetime", "datetime64", "date", "empty"):
        try:
            return pd.to_datetime(series)
        except (ValueError, TypeError):
            raise _Refused("Datetime values must be ISO-8601 strings.") from None
    raise _Refused()


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


# ---------------------------------------------------------------------------------------------
# tensor schemas


def _enforce_tensors(schema: Schema, data: Any) -> Any:
    specs: list[TensorSpec] = [spec for spec in schema.specs if isinstance(spec, TensorSpec)]
    if not schema.has_names or (len(specs) == 1 and not isinstance(data, Mapping)):
        if isinstance(data, Mapping):
            if len(data) != 1:
                raise SchemaError(f"Model expects a single tensor, got inputs {sorted(data)}")
            data = next(iter(data.values()))
        label = specs[0].name or "input"
        return _check_tensor(specs[0], _as_array(data, label), label)
    if isinstance(data, pd.DataFrame):
        data = {str(col): _column_tensor(data[col]) for col in data.columns}
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
        spec.name: _check_tensor(spec, _as_array(data[spec.name], spec.name), spec.name)
        for spec in specs
        if spec.name is not None
    }


def _column_tensor(column: pd.Series) -> np.ndarray:
    values: np.ndarray = column.to_numpy()
    if values.dtype.kind == "O" and len(values) and isinstance(values[0], (list, np.ndarray)):
        return np.stack([np.asarray(v) for v in values])
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


def _check_tensor(spec: TensorSpec, array: np.ndarray, name: str) -> np.ndarray:
    shape = "(" + ", ".join(str(d) for d in spec.shape) + ")"
    if array.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=True)
    ):
        raise SchemaError(f"Input {name!r}: expected shape {shape}, got {tuple(array.shape)}.")
    if spec.dtype in ("object", "str", "bytes"):
        return array
    want = np.dtype(spec.dtype)
    if array.dtype == want:
        return array
    if np.can_cast(array.dtype, want, "safe"):
        return array.astype(want)
    if array.dtype.kind in "iu" and want.kind == "f":
        limit = _exact_int_limit(want)
        if _fits(array, -limit, limit):
            return array.astype(want)
    if array.dtype.kind in "iu" and want.kind in "iu":
        info = np.iinfo(want)
        if _fits(array, info.min, info.max):
            return array.astype(want)
    raise SchemaError(f"Input {name!r}: expected dtype {want.name}, got {array.dtype.name}.")


# ---------------------------------------------------------------------------------------------
# params


def enforce_params(schema: ParamSchema | None, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Validate ``params`` against ``schema`` and fill in defaults.

    Raises:
        SchemaError: one or more params have invalid values (all are listed).
    """
    if schema is None:
        if params:
            warnings.warn(
                f"The model has no params schema; ignoring params {sorted(params)}",
                SchemaWarning,
                stacklevel=3,
            )
        return None
    given = dict(params or {})
    result: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    for spec in schema:
        if spec.name not in given:
            result[spec.name] = spec.default
            continue
        try:
            result[spec.name] = _convert_param(spec, given.pop(spec.name))
        except _Refused as refused:
            invalid[spec.name] = refused.hint
    if given:
        warnings.warn(f"Ignoring params not in the model's signature: {sorted(given)}", SchemaWarning, stacklevel=3)
    if invalid:
        raise SchemaError(f"Invalid parameters found: {invalid}")
    return result


def _convert_param(spec: ParamSpec, value: Any) -> Any:
    if spec.shape is None:
        if isinstance(value, (list, tuple, np.ndarray)):
            raise _Refused(f"expected a scalar {spec.type.value}, got a list")
        return _convert_scalar(spec.type, value)
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise _Refused(f"expected a list of {spec.type.value}, got {type(value).__name__}")
    return [_convert_scalar(spec.type, item) for item in value]


def _convert_scalar(kind: DataType, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    ok: Any
    if kind is DataType.boolean:
        ok = isinstance(value, bool)
    elif kind in (DataType.integer, DataType.long):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and kind is DataType.integer and not _INT32.min <= value <= _INT32.max:
            raise _Refused(f"value {value} does not fit in integer")
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
                raise _Refused("expected base64-encoded binary") from None
        ok = isinstance(value, bytes)
    else:  # datetime
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                raise _Refused(f"expected an ISO-8601 datetime, got {value!r}") from None
        ok = isinstance(value, dt.datetime)
    if not ok:
        raise _Refused(f"expected {kind.value}, got {type(value).__name__} {value!r}")
    return value


__all__ = ["column_dtypes", "enforce_input", "enforce_params", "to_dataframe"]
