"""V2 tensors on the wire: datatypes, JSON ``data``, and the binary tensor extension.

Binary tensors are raw little-endian row-major values; a ``BYTES`` tensor is a sequence of
elements, each a 4-byte little-endian length followed by its bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import InvalidInput
from pack.flavors.payloads import cast_array

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(bool),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}
_NUMERIC = {name: dtype for name, dtype in DATATYPES.items() if dtype.kind in "iuf"}
# No tensor may claim more values than this (the body limit bounds real data far below it).
MAX_ELEMENTS = 2**40


def object_field(document: Mapping[str, Any], key: str, what: str, *names: str) -> Mapping[str, Any]:
    """A JSON object field of ``document`` (``{}`` when absent).

    Raises:
        InvalidInput: it is present but not an object (``null`` included); ``what`` names it, with
            ``names`` filled into its ``{}`` (formatted only then).
    """
    value = document.get(key, _ABSENT)
    if value is _ABSENT:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise InvalidInput(f"'{what.format(*names)}' must be an object")
    return value


_ABSENT = object()
_EMPTY: Mapping[str, Any] = {}


def read_tensors(entries: list[Any], binary: memoryview) -> dict[str, np.ndarray]:
    """The request's input tensors by name (checked against their shapes and datatypes).

    Raises:
        InvalidInput: naming the input that is malformed.
    """
    if not len(binary):
        columns = _json_columns(entries) if len(entries) > 1 else _json_matrix(entries[0])
        if columns is not None:
            return columns
    tensors: dict[str, np.ndarray] = {}
    offset = 0
    for entry in entries:
        if not isinstance(entry, dict) or type(entry.get("name")) is not str:  # JSON objects are dicts
            raise InvalidInput("each input must be an object with a 'name'")
        name = entry["name"]
        if name in tensors:
            raise InvalidInput(f"input {name!r} is given twice")
        shape, datatype = entry.get("shape"), entry.get("datatype")
        if type(shape) is not list or not shape or not all(type(d) is int and d >= 0 for d in shape):
            raise InvalidInput(f"input {name!r}: 'shape' must be a non-empty list of non-negative integers")
        if not isinstance(datatype, str) or datatype not in DATATYPES:
            raise InvalidInput(f"input {name!r}: unsupported datatype {datatype!r} (use one of {', '.join(DATATYPES)})")
        if _elements(shape) > MAX_ELEMENTS:
            raise InvalidInput(f"input {name!r}: shape {shape} holds more than {MAX_ELEMENTS} values")
        size = object_field(entry, "parameters", "inputs[{}].parameters", name).get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or offset + size > len(binary):
                raise InvalidInput(f"input {name!r}: binary_data_size {size!r} does not fit the body")
            tensors[name] = _binary_tensor(name, bytes(binary[offset : offset + size]), shape, datatype)
            offset += size
        elif "data" in entry:
            tensors[name] = _json_tensor(name, entry["data"], shape, datatype)
        else:
            raise InvalidInput(f"input {name!r} has neither 'data' nor parameters.binary_data_size")
    if offset != len(binary):
        raise InvalidInput(f"{len(binary) - offset} bytes of binary data belong to no input")
    return tensors


def _json_columns(entries: list[Any]) -> dict[str, np.ndarray] | None:
    """The usual V2 form of a table, read at once: every input a JSON 1-D tensor of one numeric datatype
    and one length. None for anything else (the general path reads it, and names what is wrong)."""
    first = entries[0]
    datatype = first.get("datatype") if type(first) is dict else None
    want = _NUMERIC.get(datatype) if type(datatype) is str else None
    if want is None:
        return None
    names, rows = [], []
    for entry in entries:
        if type(entry) is not dict or entry.get("datatype") != datatype or "parameters" in entry:
            return None
        name, shape, data = entry.get("name"), entry.get("shape"), entry.get("data")
        if type(name) is not str or type(shape) is not list or len(shape) != 1 or type(data) is not list:
            return None
        if type(shape[0]) is not int or shape[0] != len(data):
            return None
        names.append(name)
        rows.append(data)
    if len(set(names)) != len(names) or len({len(row) for row in rows}) != 1 or not rows[0]:
        return None
    try:
        block: np.ndarray = np.array(rows)
    except ValueError:  # nested lists
        return None
    if block.ndim != 2 or block.dtype.kind not in ("iu" if want.kind in "iu" else "iuf"):
        return None
    block = cast_array(block, want)
    return dict(zip(names, block, strict=True)) if block.dtype == want else None


def _json_matrix(entry: Any) -> dict[str, np.ndarray] | None:
    """The usual V2 form of rows: one JSON ``[rows, columns]`` tensor of a numeric datatype, read at
    once. None for anything else (the general path reads it, and names what is wrong)."""
    if type(entry) is not dict or "parameters" in entry:
        return None
    name, shape, datatype, data = entry.get("name"), entry.get("shape"), entry.get("datatype"), entry.get("data")
    want = _NUMERIC.get(datatype) if type(datatype) is str else None
    if want is None or type(name) is not str or type(shape) is not list or type(data) is not list or len(shape) != 2:
        return None
    rows, columns = shape
    if type(rows) is not int or type(columns) is not int or rows < 1 or columns < 1:
        return None
    try:
        array: np.ndarray = np.array(data)
    except ValueError:  # ragged
        return None
    if array.shape not in ((rows * columns,), (rows, columns)) or array.dtype.kind not in (
        "iu" if want.kind in "iu" else "iuf"
    ):
        return None
    array = cast_array(array, want)
    return {name: array.reshape(rows, columns)} if array.dtype == want else None


def _elements(shape: list[int]) -> int:
    count = 1
    for dimension in shape:  # Python integers: a product past int64 is caught, not wrapped around
        count *= dimension
    return count


def _json_tensor(name: str, data: Any, shape: list[int], datatype: str) -> np.ndarray:
    want = DATATYPES[datatype]
    if datatype == "BYTES":
        flat = np.asarray(data, dtype=object).ravel() if isinstance(data, list) else np.asarray([data], object)
        if not all(isinstance(v, str) for v in flat):
            raise InvalidInput(f"input {name!r}: BYTES data must be strings")
        array = flat
    else:
        try:
            array = np.asarray(data).ravel()
        except ValueError:
            raise InvalidInput(f"input {name!r}: 'data' is not a rectangular array") from None
        kinds = "b" if datatype == "BOOL" else "iu" if want.kind in "iu" else "iuf"
        if array.size and array.dtype.kind not in kinds:
            raise InvalidInput(f"input {name!r}: data of type {array.dtype.name} is not {datatype}")
        array = cast_array(array, want) if array.size else array.astype(want)
        if array.dtype != want:
            raise InvalidInput(f"input {name!r}: values do not fit {datatype}")
    if array.size != _elements(shape):
        raise InvalidInput(f"input {name!r}: shape {shape} needs {_elements(shape)} values, got {array.size}")
    return array.reshape(shape)


def _binary_tensor(name: str, raw: bytes, shape: list[int], datatype: str) -> np.ndarray:
    if datatype == "BYTES":
        items = _unpack_bytes(name, raw)
        array = np.empty(len(items), dtype=object)
        array[:] = items
    else:
        want = DATATYPES[datatype]
        if len(raw) != _elements(shape) * want.itemsize:
            raise InvalidInput(f"input {name!r}: {len(raw)} bytes do not hold shape {shape} of {datatype}")
        array = np.frombuffer(raw, dtype=want.newbyteorder("<")).astype(want)
    if array.size != _elements(shape):
        raise InvalidInput(f"input {name!r}: shape {shape} needs {_elements(shape)} values, got {array.size}")
    return array.reshape(shape)


def _unpack_bytes(name: str, raw: bytes) -> list[bytes]:
    items, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidInput(f"input {name!r}: truncated BYTES element")
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise InvalidInput(f"input {name!r}: truncated BYTES element")
        items.append(raw[offset : offset + length])
        offset += length
    return items


def wire_array(array: np.ndarray) -> tuple[str, np.ndarray]:
    """The V2 datatype of an output and the array in a form that datatype can carry."""
    kind = array.dtype.kind
    if array.dtype in BY_DTYPE:
        return BY_DTYPE[array.dtype], array
    if kind == "M":
        return "BYTES", np.datetime_as_string(array).astype(object)
    if kind in "US":
        return "BYTES", array.astype(object)
    if kind == "O":
        inferred = pd.api.types.infer_dtype(array.ravel(), skipna=False)
        converted = {"integer": np.int64, "floating": np.float64, "boolean": np.bool_}.get(inferred)
        if inferred == "mixed-integer-float":
            converted = np.float64
        if converted is not None:
            return BY_DTYPE[np.dtype(converted)], array.astype(converted)
        return "BYTES", array
    raise InvalidInput(f"an output of dtype {array.dtype} cannot be sent over V2")


def json_data(array: np.ndarray, datatype: str) -> Any:
    flat = np.ascontiguousarray(array).ravel()
    if datatype == "BYTES":
        return [_text(v) for v in flat.tolist()]
    if datatype == "FP16":
        return flat.astype(np.float32)
    return flat


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("a BYTES output is not UTF-8 text; request it with binary_data") from None
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(value)
    return value


def pack_tensor(array: np.ndarray, datatype: str) -> bytes:
    if datatype != "BYTES":
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        return np.ascontiguousarray(little).tobytes()
    parts = []
    for value in array.ravel().tolist():
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts.append(struct.pack("<I", len(raw)) + raw)
    return b"".join(parts)


__all__ = [
    "BY_DTYPE",
    "DATATYPES",
    "MAX_ELEMENTS",
    "json_data",
    "object_field",
    "pack_tensor",
    "read_tensors",
    "wire_array",
]
