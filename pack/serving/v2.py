"""Open Inference Protocol (V2) REST: tensors <-> model data, metadata from the signature.

Requests are JSON (``{"id"?, "parameters"?, "inputs": [{name, shape, datatype, data}], "outputs"?}``)
or the binary tensor extension (a JSON header of ``Inference-Header-Content-Length`` bytes followed
by raw tensors, each input naming its ``parameters.binary_data_size``), which Triton's clients use by
default. Outputs are returned in binary when the request asks for it (``binary_data_output`` or an
output's ``binary_data``).

Column-based models take one 1-D (or ``[N, 1]``) tensor per column, or a single ``[N, columns]``
tensor; tensor-based models take their tensors by name; the answer has one tensor per output column
(or ``predictions`` for an unnamed output).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from pack._version import __version__
from pack.errors import InvalidInput
from pack.flavors import json_arrays
from pack.flavors.mlmodel import PYFUNC
from pack.flavors.payloads import refuse_missing, table_of
from pack.flavors.schema import ColSpec, DataType, ModelSignature, Schema, TensorSpec
from pack.flavors.table import NumericTable
from pack.serving.tensors import (
    BY_DTYPE,
    json_data,
    object_field,
    pack_tensor,
    read_tensors,
    wire_array,
)
from pack.types import Params

COLUMN_DATATYPES = {
    DataType.boolean: "BOOL",
    DataType.integer: "INT32",
    DataType.long: "INT64",
    DataType.float: "FP32",
    DataType.double: "FP64",
    DataType.string: "BYTES",
    DataType.binary: "BYTES",
    DataType.datetime: "BYTES",
}
# Request parameters that belong to the protocol (Triton's reserved names), never to the model.
RESERVED_PARAMETERS = frozenset(
    {"binary_data_output", "binary_data", "binary_data_size", "sequence_id", "sequence_start"}
    | {"sequence_end", "priority", "timeout", "headers", "content_type"}
)
DEFAULT_OUTPUT = "predictions"
# The name of an unnamed input: the same word signature enforcement uses in its errors ("Input 'input': ...").
DEFAULT_INPUT = "input"
HEADER_LENGTH = "inference-header-content-length"
EXTENSIONS = ("binary_tensor_data",)


@dataclass(frozen=True)
class InferRequest:
    """A decoded inference request."""

    id: str | None
    data: Any
    params: Params | None
    outputs: tuple[tuple[str, bool], ...] | None  # requested (name, binary) pairs; None: all
    binary_output: bool


# ---------------------------------------------------------------------------------------------
# metadata


def server_metadata() -> dict[str, Any]:
    """``GET /v2``."""
    return {"name": "pack", "version": __version__, "extensions": list(EXTENSIONS)}


def platform_of(flavors: Mapping[str, Any]) -> str:
    """``pack_<flavor>`` from the model's first native flavor."""
    native = [name for name in flavors if name != PYFUNC]
    return f"pack_{native[0] if native else 'pyfunc'}"


def tensor_metadata(schema: Schema | None, *, output: bool) -> list[dict[str, Any]]:
    """V2 tensor metadata (name, datatype, shape) for a signature schema."""
    if schema is None or not len(schema):
        return []
    if schema.is_tensor:
        entries = []
        for index, spec in enumerate(schema):
            if not isinstance(spec, TensorSpec):
                continue
            default = DEFAULT_OUTPUT if output else DEFAULT_INPUT
            name = spec.name or (default if len(schema) == 1 else f"{default}-{index}")
            entries.append({"name": name, "datatype": _tensor_datatype(spec.dtype), "shape": list(spec.shape)})
        return entries
    specs = [spec for spec in schema if isinstance(spec, ColSpec)]
    if schema.has_names:
        return [{"name": spec.name, "datatype": _column_datatype(spec), "shape": [-1]} for spec in specs]
    kinds = {_column_datatype(spec) for spec in specs}
    datatype = kinds.pop() if len(kinds) == 1 else "BYTES"
    name = DEFAULT_OUTPUT if output else DEFAULT_INPUT
    shape = [-1] if len(specs) == 1 else [-1, len(specs)]
    return [{"name": name, "datatype": datatype, "shape": shape}]


def model_metadata(
    name: str, versions: list[str], flavors: Mapping[str, Any], signature: ModelSignature | None
) -> dict[str, Any]:
    """``GET /v2/models/{name}``: name, versions, platform and tensors from the signature."""
    return {
        "name": name,
        "versions": versions,
        "platform": platform_of(flavors),
        "inputs": tensor_metadata(signature.inputs if signature else None, output=False),
        "outputs": tensor_metadata(signature.outputs if signature else None, output=True),
    }


def _column_datatype(spec: ColSpec) -> str:
    return COLUMN_DATATYPES[spec.type] if isinstance(spec.type, DataType) else "BYTES"


def _tensor_datatype(dtype: str) -> str:
    try:
        return BY_DTYPE.get(np.dtype(dtype), "BYTES")
    except TypeError:
        return "BYTES"


# ---------------------------------------------------------------------------------------------
# requests


def parse_infer(
    body: bytes | bytearray, header_length: str | None, schema: Schema | None, param_names: frozenset[str]
) -> InferRequest:
    """Decode an inference request (JSON, or JSON header + binary tensors).

    Raises:
        InvalidInput: the request is malformed or its tensors do not match their shapes/datatypes.
    """
    split_at = len(body)
    if header_length is not None:
        try:
            split_at = int(header_length)
        except ValueError:
            raise InvalidInput(f"{HEADER_LENGTH} must be an integer, got {header_length!r}") from None
        if not 0 <= split_at <= len(body):
            raise InvalidInput(f"{HEADER_LENGTH} {split_at} is outside the body of {len(body)} bytes")
    try:
        document = json_arrays.loads(body if split_at == len(body) else bytes(memoryview(body)[:split_at]))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or type(document.get("inputs")) is not list or not document["inputs"]:
        raise InvalidInput("the request must be a JSON object with a non-empty 'inputs' list")
    parameters = object_field(document, "parameters", "parameters")
    request_id = document.get("id")
    if "id" in document and not isinstance(request_id, str):
        raise InvalidInput("'id' must be a string")
    binary = memoryview(body)[split_at:]
    tensors = read_tensors(document["inputs"], binary)
    outputs = _requested_outputs(document)
    data = model_input(tensors, schema)
    if len(binary) and isinstance(data, (pd.DataFrame, NumericTable)):  # raw floats can be NaN; JSON cannot
        data = refuse_missing(data, schema)
    params = None
    if parameters:
        params = {k: v for k, v in parameters.items() if k in param_names and k not in RESERVED_PARAMETERS}
    return InferRequest(
        id=request_id,
        data=data,
        params=params or None,
        outputs=outputs,
        binary_output=bool(parameters.get("binary_data_output", False)),
    )


def _requested_outputs(document: Mapping[str, Any]) -> tuple[tuple[str, bool], ...] | None:
    if "outputs" not in document:
        return None
    raw = document["outputs"]
    if not isinstance(raw, list):
        raise InvalidInput("'outputs' must be a list")
    wanted = []
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise InvalidInput("each requested output must be an object with a 'name'")
        parameters = object_field(entry, "parameters", "outputs[{}].parameters", entry["name"])
        wanted.append((entry["name"], bool(parameters.get("binary_data", False))))
    return tuple(wanted)


def model_input(tensors: dict[str, np.ndarray], schema: Schema | None) -> Any:
    """Arrange decoded tensors the way the model's signature takes them."""
    if schema is None or not len(schema):
        return next(iter(tensors.values())) if len(tensors) == 1 else tensors
    if schema.is_tensor:
        if len(tensors) == 1 and len(schema) == 1:
            return next(iter(tensors.values()))
        return tensors
    uniform = schema.uniform_columns
    table = _table(tensors, schema, uniform[1]) if uniform is not None else None
    if table is not None:
        return table
    specs = {spec.name: spec for spec in schema if isinstance(spec, ColSpec)}
    names = schema.names if schema.has_names else None
    if len(tensors) == 1:
        ((name, array),) = tensors.items()
        if array.ndim == 2 and array.shape[1] == len(schema) and (names is None or name not in specs):
            return pd.DataFrame(array, columns=names)  # one [rows, columns] tensor
    columns: dict[str, Any] = {}
    for name, tensor in tensors.items():
        column = tensor[:, 0] if tensor.ndim == 2 and tensor.shape[1] == 1 else tensor
        spec = specs.get(name)
        if spec is not None and spec.type is DataType.string and column.dtype == object:
            column = _utf8(name, column)
        columns[name] = column if column.ndim <= 1 else list(column)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InvalidInput(f"column inputs must have one row count, got {sorted(lengths)}")
    return pd.DataFrame(columns)


def _table(tensors: dict[str, np.ndarray], schema: Schema, names: tuple[str, ...]) -> NumericTable | None:
    """The tensors as one array when the columns (``names``) share one numeric type: a single
    ``[rows, columns]`` tensor, or one 1-D (or ``[rows, 1]``) tensor per column, all of one datatype."""
    if len(tensors) == 1:
        ((name, array),) = tensors.items()
        if array.ndim == 2 and name not in names:
            return table_of(array, schema, cast=False)
    columns = {name: t[:, 0] if t.ndim == 2 and t.shape[1] == 1 else t for name, t in tensors.items()}
    return table_of(columns, schema, cast=False)


def _utf8(name: str, array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape, dtype=object)
    try:
        out[:] = [v.decode("utf-8") if isinstance(v, bytes) else v for v in array]
    except UnicodeDecodeError:
        raise InvalidInput(f"input {name!r}: BYTES values are not UTF-8 text") from None
    return out


# ---------------------------------------------------------------------------------------------
# responses


def output_tensors(predictions: Any, outputs: Schema | None) -> list[tuple[str, np.ndarray]]:
    """Name the model's outputs: one tensor per DataFrame column or dict key, else one tensor."""
    if isinstance(predictions, pd.DataFrame):
        return [(str(column), predictions[column].to_numpy()) for column in predictions.columns]
    if isinstance(predictions, Mapping):
        return [(str(key), _to_array(value)) for key, value in predictions.items()]
    default = _output_name(outputs)
    if isinstance(predictions, pd.Series) and predictions.name is not None:
        default = str(predictions.name)
    return [(default, _to_array(predictions))]


def _output_name(outputs: Schema | None) -> str:
    """The name of a single unnamed output: the signature's one output name, else ``predictions``."""
    if outputs is not None and len(outputs) == 1 and outputs.has_names:
        return outputs.names[0]
    return DEFAULT_OUTPUT


def _to_array(value: Any) -> np.ndarray:
    if isinstance(value, (pd.Series, pd.Index)):
        array: np.ndarray = value.to_numpy()
        return array
    try:
        return np.asarray(value)
    except ValueError:
        return np.asarray(value, dtype=object)


def encode_infer(
    request: InferRequest, model_name: str, model_version: str, predictions: Any, outputs: Schema | None
) -> tuple[bytes, dict[str, str]]:
    """The inference response body and its headers (binary extension when asked for).

    Raises:
        InvalidInput: a requested output does not exist.
    """
    if type(predictions) is np.ndarray and request.outputs is None and not request.binary_output:
        datatype = BY_DTYPE.get(predictions.dtype)
        if datatype is not None:  # the usual answer: one numeric array, in JSON
            only: dict[str, Any] = {"name": _output_name(outputs), "datatype": datatype}
            only["shape"], only["data"] = list(predictions.shape), json_data(predictions, datatype)
            return _response(request, model_name, model_version, [only]), _JSON_HEADERS
    produced = dict(output_tensors(predictions, outputs))
    if request.outputs is None:
        selected = [(name, request.binary_output) for name in produced]
    else:
        unknown = [name for name, _ in request.outputs if name not in produced]
        if unknown:
            raise InvalidInput(f"unknown outputs {unknown}; the model returns {sorted(produced)}")
        selected = [(name, binary or request.binary_output) for name, binary in request.outputs]
    entries, blobs = [], []
    for name, binary in selected:
        array = produced[name]
        datatype, array = wire_array(array)
        entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if binary:
            raw = pack_tensor(array, datatype)
            entry["parameters"] = {"binary_data_size": len(raw)}
            blobs.append(raw)
        else:
            entry["data"] = json_data(array, datatype)
        entries.append(entry)
    header = _response(request, model_name, model_version, entries)
    if not blobs:
        return header, _JSON_HEADERS
    headers = {"content-type": "application/octet-stream", HEADER_LENGTH: str(len(header))}
    return header + b"".join(blobs), headers


_JSON_HEADERS = {"content-type": "application/json"}


def _response(request: InferRequest, model_name: str, model_version: str, entries: list[dict[str, Any]]) -> bytes:
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = entries
    return orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)


__all__ = [
    "COLUMN_DATATYPES",
    "DEFAULT_INPUT",
    "DEFAULT_OUTPUT",
    "EXTENSIONS",
    "HEADER_LENGTH",
    "RESERVED_PARAMETERS",
    "InferRequest",
    "encode_infer",
    "model_input",
    "model_metadata",
    "output_tensors",
    "parse_infer",
    "platform_of",
    "server_metadata",
    "tensor_metadata",
]
