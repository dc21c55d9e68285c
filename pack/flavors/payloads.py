"""MLflow's JSON and CSV data forms, converted to and from pandas/numpy.

Request forms (exactly one per body, plus optional ``params``)::

    {"dataframe_split": {"columns": [...], "data": [[...], ...]}}
    {"dataframe_records": [{"col": value, ...}, ...]}
    {"instances": [row, ...]}          TF-Serving rows (scalars, lists or dicts of named tensors)
    {"inputs": [...] | {"name": [...]}} TF-Serving columns

Wire data carry no numeric widths, so values are cast to the dtypes the schema names (ints and
doubles to ``float`` columns, whole doubles to ``long`` columns, ...) before enforcement decides.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import orjson
import pandas as pd

from pack.errors import InvalidInput, SchemaError
from pack.flavors import json_arrays
from pack.flavors.casts import cast_array, cast_frame, shape_text
from pack.flavors.enforce_columns import to_dataframe
from pack.flavors.schema import ColSpec, DataType, Schema, TensorSpec
from pack.flavors.table import NumericTable, column_index

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def parse_json_request(
    body: bytes | bytearray | str | Mapping[str, Any], schema: Schema | None, *, tables: bool = False
) -> tuple[Any, dict[str, Any] | None]:
    """Parse an ``/invocations`` JSON body into ``(data, params)``.

    With ``tables``, rows for a column schema whose columns share one numeric type come back as a
    ``NumericTable`` (one array, no DataFrame) instead of a DataFrame.

    Raises:
        InvalidInput: malformed JSON, not exactly one format key, or malformed data.
    """
    document: Any = body if isinstance(body, Mapping) else loads(body)
    if not isinstance(document, Mapping):
        raise InvalidInput(
            "The JSON body must be an object with exactly one of the keys "
            f"{', '.join(FORMATS)} (and optionally 'params')."
        )
    keys = [key for key in FORMATS if key in document]
    if len(keys) != 1 or len(document) > 1 + ("params" in document):
        found = ", ".join(sorted(document)) or "none"
        raise InvalidInput(
            f"The JSON body must have exactly one of the keys {', '.join(FORMATS)} and optionally "
            f"'params'; found: {found}."
        )
    params = document.get("params")
    if "params" in document and not isinstance(params, Mapping):
        raise InvalidInput("'params' must be a JSON object")
    key = keys[0]
    data = PARSERS[key](document[key], schema, tables=tables)
    return data, dict(params) if params is not None else None


def loads(body: bytes | bytearray | str) -> Any:
    """A JSON document; large arrays of numbers come back as numpy arrays (``pack.flavors.json_arrays``).

    Raises:
        InvalidInput: the body is not valid JSON.
    """
    try:
        return json_arrays.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"Invalid JSON input: {exc}") from None


def parse_split(obj: Any, schema: Schema | None, *, tables: bool = False) -> pd.DataFrame | NumericTable:
    """``dataframe_split``: ``{"columns": [...], "data": [[...]], "index"?: [...]}``."""
    if not isinstance(obj, Mapping) or "data" not in obj:
        raise InvalidInput("'dataframe_split' must be an object with 'data' (and usually 'columns')")
    data, columns = obj["data"], obj.get("columns")
    if not isinstance(data, (list, np.ndarray)) or (columns is not None and not isinstance(columns, list)):
        raise InvalidInput("'dataframe_split' needs 'data' as a list of rows and 'columns' as a list")
    if "index" in obj and not isinstance(obj["index"], list):
        raise InvalidInput("'dataframe_split.index' must be a list")
    if isinstance(data, np.ndarray):  # a large block of numbers, parsed straight into an array
        if data.ndim != 2:
            raise InvalidInput("'dataframe_split.data' must be a list of rows (lists)")
        width = len(columns) if columns is not None else data.shape[1]
        if data.shape[1] != width:
            raise InvalidInput(f"every row of 'dataframe_split.data' must have {width} values")
    else:
        if data and not all(isinstance(row, list) for row in data):
            raise InvalidInput("'dataframe_split.data' must be a list of rows (lists)")
        width = len(columns) if columns is not None else (len(data[0]) if data else 0)
        if any(len(row) != width for row in data):
            raise InvalidInput(f"every row of 'dataframe_split.data' must have {width} values")
    try:
        frame, cast = _frame_from_rows(data, columns, width, schema, tables)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"cannot read 'dataframe_split': {exc}") from None
    return frame if cast else cast_frame(frame, schema)


def _frame_from_rows(
    data: list[list[Any]] | np.ndarray, columns: list[Any] | None, width: int, schema: Schema | None, tables: bool
) -> tuple[Any, bool]:
    """The frame (or table), and whether it already holds the dtypes ``schema`` wants (no ``cast_frame``)."""
    if not len(data):
        return pd.DataFrame(columns=columns if columns is not None else range(width)), False
    try:
        array = data if isinstance(data, np.ndarray) else np.array(data)
    except ValueError:  # cells of different shapes (e.g. one tensor per column, each its own width)
        return pd.DataFrame(data, columns=columns), False
    if array.dtype.kind in "biuf" and array.ndim == 2:  # one homogeneous block: the fast path
        want = _common_numeric_dtype(schema, columns)
        if want is not None:
            array = cast_array(array, want)  # all at once; cast_frame does per-column what this refuses
        cast = want is not None and array.dtype == want
        if tables and cast and columns is not None:
            return NumericTable(array, tuple(columns)), True
        labels = column_index(tuple(columns)) if columns is not None else None
        return pd.DataFrame(array, columns=labels, copy=False), cast
    return pd.DataFrame(data, columns=columns), False


def _common_numeric_dtype(schema: Schema | None, columns: list[Any] | None) -> np.dtype[Any] | None:
    """The one numeric dtype a named schema wants for every one of ``columns``, if there is one."""
    if schema is None or schema.is_tensor or not schema.has_names or columns is None:
        return None
    uniform = schema.uniform_columns
    if uniform is not None and tuple(columns) == uniform[1]:
        return _DTYPES[uniform[0]]
    wanted = {spec.name: spec.type for spec in schema if isinstance(spec, ColSpec)}
    kinds = {wanted.get(str(column)) for column in columns}
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if not isinstance(kind, DataType) or kind.numpy_dtype not in _NUMERIC:
        return None
    return _DTYPES[kind]


_NUMERIC = ("int32", "int64", "float32", "float64")
_DTYPES = {kind: np.dtype(kind.numpy_dtype) for kind in DataType if kind.numpy_dtype in _NUMERIC}


def table_of(values: Any, schema: Schema | None, *, cast: bool = True) -> NumericTable | None:
    """Rows for a schema whose columns share one numeric type, as a table in the schema's column order.

    ``values``: a ``rows x columns`` block, or a mapping of one 1-D array (or list) per column, all of
    one dtype. With ``cast``, wire numbers are first cast to the schema's type where no value changes
    meaning (typed data, such as V2 tensors, is left for enforcement to judge). None when the data is
    anything else: the general path decides, and names what is wrong.
    """
    uniform = schema.uniform_columns if schema is not None else None
    if uniform is None:
        return None
    kind, names = uniform
    want = _DTYPES[kind]
    try:
        if isinstance(values, Mapping):
            if len(values) != len(names) or any(name not in values for name in names):
                return None
            parts = [np.asarray(values[name]) for name in names]
            if cast:
                parts = [cast_array(part, want) if part.dtype.kind in "iuf" else part for part in parts]
            kinds = {(part.dtype, part.ndim, len(part)) for part in parts}
            if len(kinds) != 1 or parts[0].ndim != 1:
                return None
            block = np.array(parts).T  # one copy: a row per column, then viewed as columns
        else:
            block = np.asarray(values)
    except (ValueError, TypeError):  # ragged lists, scalars
        return None
    if block.ndim != 2 or block.shape[1] != len(names) or block.dtype.kind not in "iuf" or not len(block):
        return None
    if cast:
        block = cast_array(block, want)
        if block.dtype != want:
            return None
    return NumericTable(block, names)


def parse_records(obj: Any, schema: Schema | None, *, tables: bool = False) -> pd.DataFrame | NumericTable:
    """``dataframe_records``: a list of ``{column: value}`` objects."""
    if not isinstance(obj, list) or not all(isinstance(row, Mapping) for row in obj):
        raise InvalidInput("'dataframe_records' must be a list of objects")
    if tables and obj and all(row.keys() == obj[0].keys() for row in obj):
        table = table_of({name: [row[name] for row in obj] for name in obj[0]}, schema)
        if table is not None:
            return table
    return cast_frame(pd.DataFrame.from_records(obj) if obj else pd.DataFrame(), schema)


def parse_instances(obj: Any, schema: Schema | None, *, tables: bool = False) -> Any:
    """``instances``: a list of rows; rows that are objects name tensors (or columns)."""
    if not isinstance(obj, (list, np.ndarray)):
        raise InvalidInput("'instances' must be a list")
    if obj and all(isinstance(row, Mapping) for row in obj):
        names = list(obj[0])
        if any(list(row) != names for row in obj):
            raise InvalidInput("every object in 'instances' must have the same keys")
        return parse_inputs({name: [row[name] for row in obj] for name in names}, schema, tables=tables)
    return parse_inputs(obj, schema, tables=tables)


def parse_inputs(obj: Any, schema: Schema | None, *, tables: bool = False) -> Any:
    """``inputs``: one tensor (a list) or named tensors/columns (an object of lists)."""
    if schema is not None and not schema.is_tensor:
        table = table_of(obj, schema) if tables else None
        if table is not None:
            return table
        try:
            frame = to_dataframe(obj, schema)
        except InvalidInput:
            raise
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"cannot read 'inputs': {exc}") from None
        return cast_frame(frame, schema)
    specs = {spec.name: spec for spec in schema or () if isinstance(spec, TensorSpec)}
    if isinstance(obj, Mapping):
        return {name: _array(value, specs.get(name)) for name, value in obj.items()}
    single = next(iter(specs.values())) if len(specs) == 1 else None
    return _array(obj, single)


def _array(value: Any, spec: TensorSpec | None) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested lists
        if spec is not None and spec.dtype not in ("object", "str", "bytes"):
            label = spec.name or "input"
            raise SchemaError(
                f"Input {label!r}: expected shape {shape_text(spec)}, got nested lists of different lengths."
            ) from None
        array = np.asarray(value, dtype=object)
    if spec is None or spec.dtype in ("object", "str", "bytes") or array.dtype.kind not in "biuf":
        return array
    return cast_array(array, np.dtype(spec.dtype))


def refuse_missing(frame: Any, schema: Schema | None) -> Any:
    """Refuse NaN or infinite values in the required numeric columns of a named column schema.

    JSON cannot carry them; CSV, Parquet and binary tensors can, and most models fail on them with
    an error of their own. A column that may hold them is declared optional (an input example with a
    missing value makes it so).

    Raises:
        SchemaError: naming the first such column.
    """
    if schema is None or schema.is_tensor or not schema.has_names:
        return frame
    if isinstance(frame, NumericTable):
        if frame.values.dtype.kind == "f" and not np.isfinite(frame.values).all():
            frame = frame.to_frame()  # name the column the way the general check does
        else:
            return frame
    for spec in schema:
        if not isinstance(spec, ColSpec) or not spec.required or spec.name not in frame:
            continue
        if not isinstance(spec.type, DataType) or spec.type.numpy_dtype not in _NUMERIC:
            continue
        column = frame[spec.name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
            if not np.isfinite(column.to_numpy()).all():
                raise SchemaError(f"Column {spec.name!r} is required but has missing or infinite values (NaN, inf).")
        elif column.isna().any():
            raise SchemaError(f"Column {spec.name!r} is required but has missing values.")
    return frame


PARSERS = {
    "dataframe_split": parse_split,
    "dataframe_records": parse_records,
    "instances": parse_instances,
    "inputs": parse_inputs,
}


def parse_csv(body: bytes | bytearray | str, schema: Schema | None) -> pd.DataFrame:
    """A CSV document with a header row and at least one row.

    The bytes are parsed in place (no decoded copy of the text), and every row must have as many fields
    as the header: pandas would otherwise turn extra leading fields into an index and shift the values.

    Raises:
        InvalidInput: the document cannot be parsed, a row's field count differs from the header's,
            or there are no rows.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    check_field_counts(raw)
    dtypes = None
    if schema is not None and schema.has_names and not schema.is_tensor:
        dtypes = {
            spec.name: spec.type.numpy_dtype
            for spec in schema
            if isinstance(spec, ColSpec)
            and isinstance(spec.type, DataType)
            and spec.type.numpy_dtype in ("float32", "float64")
        }
    try:
        frame = pd.read_csv(_reader(raw), dtype=dtypes, index_col=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Invalid CSV input: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"Invalid CSV input: {str(exc).splitlines()[0]}") from None
    if frame.empty:
        raise InvalidInput("Invalid CSV input: the header has no rows under it")
    return refuse_missing(cast_frame(frame, schema), schema)


def check_field_counts(raw: bytes | bytearray) -> None:
    """Refuse a CSV document whose rows do not all have the header's number of fields (blank lines skipped).

    Raises:
        InvalidInput: naming the first such line.
    """
    expected: int | None = None
    if b'"' in raw:  # quoted fields may hold commas and newlines: let the csv module tokenise
        text = io.TextIOWrapper(_reader(raw), encoding="utf-8", errors="replace", newline="")
        reader = csv.reader(text)
        for row in reader:
            if row:
                expected = _check_count(len(row), expected, reader.line_num)
        return
    for number, line in enumerate(cast("list[bytes]", raw.split(b"\n")), 1):
        if line.strip():
            expected = _check_count(line.count(b",") + 1, expected, number)


def _check_count(fields: int, expected: int | None, line: int) -> int:
    if expected is not None and fields != expected:
        raise InvalidInput(f"Invalid CSV input: line {line} has {fields} fields, the header has {expected}")
    return fields if expected is None else expected


class _BufferReader(io.RawIOBase):
    """A read-only file over a bytes-like object, without copying it (``io.BytesIO`` copies a bytearray)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._view = memoryview(data)
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._view[self._offset : self._offset + len(buffer)]
        size = len(chunk)
        buffer[:size] = chunk
        self._offset += size
        return size

    def close(self) -> None:
        self._view.release()
        super().close()


def _reader(data: bytes | bytearray) -> io.BufferedReader:
    return io.BufferedReader(_BufferReader(data), buffer_size=1 << 20)


def parse_parquet(body: bytes, schema: Schema | None) -> pd.DataFrame:
    """An Apache Parquet document (needs pyarrow)."""
    try:
        frame = pd.read_parquet(io.BytesIO(body))
    except ImportError:
        raise InvalidInput("Parquet input needs pyarrow installed on the server") from None
    except Exception as exc:
        raise InvalidInput(f"Invalid Parquet input: {exc}") from None
    return refuse_missing(cast_frame(frame, schema), schema)


# ---------------------------------------------------------------------------------------------
# output


def jsonable(value: Any) -> Any:
    """Convert predictions to what ``orjson`` can write (DataFrames become records, as MLflow)."""
    if isinstance(value, pd.DataFrame):
        return [{str(k): _scalar(v) for k, v in row.items()} for row in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return [_scalar(v) for v in value.tolist()]
    if isinstance(value, np.ndarray):
        return value if _orjson_native(value) else _scalar(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return _scalar(value)


def _orjson_native(array: np.ndarray) -> bool:
    return (
        array.flags.c_contiguous
        and array.dtype.kind in "biuf"
        and array.dtype.itemsize >= 1
        and array.dtype != np.float16
    )


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def dumps(value: Any) -> bytes:
    """JSON bytes of any prediction-like value (NaN becomes null)."""
    return orjson.dumps(jsonable(value), option=orjson.OPT_SERIALIZE_NUMPY, default=_default)


def _default(value: Any) -> Any:
    converted = _scalar(value)
    if converted is value:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")
    return converted


def dumps_predictions(predictions: Any) -> bytes:
    """The ``{"predictions": ...}`` response body."""
    return dumps({"predictions": predictions})


__all__ = [
    "FORMATS",
    "cast_array",
    "cast_frame",
    "check_field_counts",
    "dumps",
    "dumps_predictions",
    "jsonable",
    "parse_csv",
    "parse_inputs",
    "parse_instances",
    "parse_json_request",
    "parse_parquet",
    "parse_records",
    "parse_split",
]
