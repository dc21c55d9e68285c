"""JSON Schema (the OpenAPI 3.0 dialect) for signature types: columns, tensors, params, predictions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pack.flavors.schema import ColSpec, DataType, ParamSchema, Schema, TensorSpec

COLUMN_TYPES: dict[DataType, dict[str, Any]] = {
    DataType.boolean: {"type": "boolean"},
    DataType.integer: {"type": "integer", "format": "int32"},
    DataType.long: {"type": "integer", "format": "int64"},
    DataType.float: {"type": "number", "format": "float"},
    DataType.double: {"type": "number", "format": "double"},
    DataType.string: {"type": "string"},
    DataType.binary: {"type": "string", "format": "byte"},
    DataType.datetime: {"type": "string", "format": "date-time"},
}


def column_type(spec: ColSpec) -> dict[str, Any]:
    """The schema of one column value."""
    if isinstance(spec.type, DataType):
        return dict(COLUMN_TYPES[spec.type])
    return _composite(spec.type)


def _composite(raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = raw.get("type")
    if isinstance(kind, str) and kind in DataType.__members__:
        return dict(COLUMN_TYPES[DataType(kind)])
    if kind == "array" and isinstance(raw.get("items"), Mapping):
        return {"type": "array", "items": _composite(raw["items"])}
    if kind == "object" and isinstance(raw.get("properties"), Mapping):
        props = {str(k): _composite(v) for k, v in raw["properties"].items() if isinstance(v, Mapping)}
        return {"type": "object", "properties": props}
    if kind == "map" and isinstance(raw.get("values"), Mapping):
        return {"type": "object", "additionalProperties": _composite(raw["values"])}
    return {}


def tensor_schema(spec: TensorSpec, dims: tuple[int, ...]) -> dict[str, Any]:
    """Nested arrays for ``dims`` of a tensor (fixed sizes become min/maxItems)."""
    kind = spec.dtype
    item: dict[str, Any]
    if kind.startswith(("float", "double")):
        # numpy reads JSON booleans as 0/1 in a numeric tensor, and the server takes them so
        item = {"anyOf": [{"type": "number"}, {"type": "boolean"}]}
    elif kind.startswith(("int", "uint")):
        item = {"type": "integer"}
    elif kind == "bool":
        item = {"type": "boolean"}
    else:
        item = {"type": "string"}
    for size in reversed(dims):
        item = {"type": "array", "items": item}
        if size >= 0:
            item.update(minItems=size, maxItems=size)
    return item


def row_schema(inputs: Schema | None) -> dict[str, Any]:
    """One record (``dataframe_records`` item): an object with a property per named column."""
    if inputs is None or inputs.is_tensor or not inputs.has_names:
        return {"type": "object"}
    specs = [spec for spec in inputs if isinstance(spec, ColSpec)]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {spec.name: column_type(spec) for spec in specs if spec.name is not None},
    }
    required = [spec.name for spec in specs if spec.required and spec.name is not None]
    if required:
        schema["required"] = required
    return schema


def instance_schema(inputs: Schema | None) -> dict[str, Any]:
    """One ``instances`` item: a row, one tensor without its batch dimension, or an object of such tensors."""
    if inputs is not None and inputs.is_tensor:
        tensors = [spec for spec in inputs if isinstance(spec, TensorSpec)]
        if len(tensors) == 1:
            return tensor_schema(tensors[0], tensors[0].shape[1:])
        if inputs.has_names:
            return _named_tensors({t.name: tensor_schema(t, t.shape[1:]) for t in tensors if t.name is not None})
    if inputs is not None and not inputs.is_tensor and inputs.has_names:
        return row_schema(inputs)
    return {}


def _named_tensors(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


def inputs_schema(inputs: Schema | None) -> dict[str, Any]:
    """The ``inputs`` form: columns as arrays, or the tensor(s) whole."""
    if inputs is None:
        return {}
    if inputs.is_tensor:
        tensors = [spec for spec in inputs if isinstance(spec, TensorSpec)]
        if len(tensors) == 1 and tensors[0].name is None:
            return tensor_schema(tensors[0], tensors[0].shape)
        return _named_tensors({t.name: tensor_schema(t, t.shape) for t in tensors if t.name is not None})
    if not inputs.has_names:
        return {"type": "array", "items": {}}
    columns = [spec for spec in inputs if isinstance(spec, ColSpec) and spec.name is not None]
    return {
        "type": "object",
        "properties": {c.name: {"type": "array", "items": column_type(c)} for c in columns if c.name},
    }


def params_schema(params: ParamSchema | None) -> dict[str, Any]:
    """The ``params`` object with each param's type and default."""
    if params is None:
        return {"type": "object"}
    properties = {}
    for param in params:
        schema = dict(COLUMN_TYPES[param.type])
        if param.shape is not None:
            schema = {"type": "array", "items": schema}
        if param.default is not None:
            schema["default"] = param.default
        properties[param.name] = schema
    return {"type": "object", "properties": properties}


_CSV_FIELDS = {
    DataType.boolean: "(true|false)",
    DataType.integer: "-?[0-9]{1,9}",
    DataType.long: "-?[0-9]{1,15}",
    DataType.float: "-?[0-9]{1,6}(\\.[0-9]{1,6})?",
    DataType.double: "-?[0-9]{1,12}(\\.[0-9]{1,12})?",
    DataType.string: "[A-Za-z0-9 _.-]*",
}
_NUMBER_FIELD = _CSV_FIELDS[DataType.double]


def csv_schema(inputs: Schema | None) -> dict[str, Any]:
    """A ``text/csv`` body: a header row and at least one row of as many fields.

    For a named column schema the header and the fields follow the signature (a pattern); for a
    single tensor, any header of its width and numeric rows.
    """
    fields: list[str] | None = None
    header = None
    if inputs is not None and not inputs.is_tensor and inputs.has_names:
        specs = [spec for spec in inputs if isinstance(spec, ColSpec)]
        if all(isinstance(spec.type, DataType) and spec.type in _CSV_FIELDS for spec in specs):
            header = ",".join(re.escape(str(spec.name)) for spec in specs)
            fields = [_CSV_FIELDS[spec.type] for spec in specs if isinstance(spec.type, DataType)]
    elif inputs is not None and inputs.is_tensor:
        tensors = [spec for spec in inputs if isinstance(spec, TensorSpec)]
        if len(tensors) == 1 and len(tensors[0].shape) == 2 and tensors[0].shape[1] > 0:
            width = tensors[0].shape[1]
            header = ",".join(["[a-z][a-z0-9_]{0,8}"] * width)
            fields = [_NUMBER_FIELD] * width
    if fields is None or header is None:
        return {"type": "string", "minLength": 1, "description": "CSV with a header row and at least one row."}
    row = ",".join(fields)
    return {
        "type": "string",
        "pattern": f"^{header}\\n({row}\\n){{1,20}}$",
        "description": "CSV with a header row and at least one row, each with as many fields as the header.",
    }


def predictions_schema(outputs: Schema | None) -> dict[str, Any]:
    """What ``predictions`` holds for an output schema."""
    if outputs is None or not len(outputs):
        return {}
    if outputs.is_tensor:
        tensors = [spec for spec in outputs if isinstance(spec, TensorSpec)]
        if len(tensors) == 1:
            return tensor_schema(tensors[0], tensors[0].shape)
        return {
            "type": "object",
            "properties": {t.name: tensor_schema(t, t.shape) for t in tensors if t.name},
        }
    columns = [spec for spec in outputs if isinstance(spec, ColSpec)]
    if len(columns) == 1:
        return {"type": "array", "items": column_type(columns[0])}
    return {"type": "array", "items": row_schema(outputs)}


__all__ = [
    "COLUMN_TYPES",
    "column_type",
    "csv_schema",
    "inputs_schema",
    "instance_schema",
    "params_schema",
    "predictions_schema",
    "row_schema",
    "tensor_schema",
]
