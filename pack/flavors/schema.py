"""Signature types in MLflow's JSON format: column, tensor and parameter schemas.

This module only describes and (de)serialises schemas; inference lives in ``infer.py`` and
enforcement in ``enforce.py``. It imports no numpy or pandas.

JSON forms (each list is stored in the MLmodel as a JSON *string*)::

    ColSpec     {"type": "double", "name": "x", "required": true}
    TensorSpec  {"type": "tensor", "name": "img", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}}
    ParamSpec   {"name": "t", "type": "double", "default": 0.5, "shape": null}
"""

from __future__ import annotations

import functools
import json
import reprlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

from pack.errors import InvalidModel


class DataType(str, Enum):
    """Column data types (MLflow's names)."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    @property
    def numpy_dtype(self) -> str:
        """The numpy dtype name a column of this type holds."""
        return _NUMPY_DTYPES[self]


_NUMPY_DTYPES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
    DataType.datetime: "datetime64[ns]",
}

# Deeper documents are refused: MLflow's composite types nest a few levels, and a crafted file nested
# thousands of levels deep would otherwise end in a RecursionError somewhere downstream.
MAX_NESTING = 32

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 3, 60, 60, 4, 4


def brief(value: Any) -> str:
    """A short ``repr`` for error messages (a malformed entry can be megabytes long)."""
    return _SHORT.repr(value)


def check_nesting(value: Any, limit: int, what: str) -> None:
    """Refuse lists and mappings nested more than ``limit`` levels (checked without recursion).

    Raises:
        InvalidModel: ``value`` is nested too deeply.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, Mapping) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (Mapping, list)):
                if depth >= limit:
                    raise InvalidModel(f"{what} is nested more than {limit} levels deep")
                stack.append((child, depth + 1))


_NUMERIC_TYPES = frozenset({DataType.integer, DataType.long, DataType.float, DataType.double})

# A composite column type (array/object/map/any, MLflow 2.x) is kept as its raw JSON mapping.
ColumnType = Union[DataType, Mapping[str, Any]]


def _column_type(raw: Any) -> ColumnType:
    if isinstance(raw, Mapping):
        if raw.get("type") not in {"array", "object", "map", "any", "sparkml_vector"}:
            raise InvalidModel(f"unknown composite column type {brief(dict(raw))}")
        return dict(raw)
    if raw in ("array", "object", "map", "any", "sparkml_vector"):
        return {"type": raw}
    try:
        return DataType(raw)
    except ValueError:
        raise InvalidModel(f"unknown column type {brief(raw)}") from None


@dataclass(frozen=True)
class ColSpec:
    """One named (or positional) column of a column-based schema."""

    type: ColumnType
    name: str | None = None
    required: bool = True

    @property
    def type_name(self) -> str:
        """The type's name (``double``, ``array``, ...)."""
        return self.type.value if isinstance(self.type, DataType) else str(self.type.get("type"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any]
        out = {"type": self.type.value} if isinstance(self.type, DataType) else dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: numpy dtype name and shape, ``-1`` marking a variable dimension."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)},
        }
        if self.name is not None:
            out["name"] = self.name
        return out


Spec = Union[ColSpec, TensorSpec]


@dataclass(frozen=True)
class Schema:
    """An ordered list of all-column or all-tensor specs."""

    specs: tuple[Spec, ...]

    def __post_init__(self) -> None:
        kinds = {type(spec) for spec in self.specs}
        if len(kinds) > 1:
            raise InvalidModel("a schema cannot mix column and tensor specs")
        names = [spec.name for spec in self.specs]
        named = [n for n in names if n is not None]
        if named and len(named) != len(names):
            raise InvalidModel("a schema's specs must be all named or all unnamed")
        if len(set(named)) != len(named):
            raise InvalidModel(f"duplicate names in schema: {named}")

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    @property
    def is_tensor(self) -> bool:
        """True for a tensor-based schema."""
        return bool(self.specs) and isinstance(self.specs[0], TensorSpec)

    @property
    def has_names(self) -> bool:
        """True when every spec is named."""
        return bool(self.specs) and self.specs[0].name is not None

    @property
    def names(self) -> list[str]:
        """Spec names (empty for an unnamed schema)."""
        return [spec.name for spec in self.specs if spec.name is not None]

    @functools.cached_property
    def uniform_columns(self) -> tuple[DataType, tuple[str, ...]] | None:
        """``(type, names)`` when this is a named column schema whose columns all have one numeric
        type (what a request can be parsed into as one array), else None."""
        if not self.has_names or self.is_tensor:
            return None
        kinds = {spec.type for spec in self.specs if isinstance(spec, ColSpec)}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        if not isinstance(kind, DataType) or kind not in _NUMERIC_TYPES:
            return None
        return kind, tuple(self.names)

    def to_json(self) -> str:
        return json.dumps([spec.to_dict() for spec in self.specs])

    @classmethod
    def from_json(cls, text: str | Sequence[Any]) -> Schema:
        raw = _parse(text, "schema")
        if not isinstance(raw, list):
            raise InvalidModel("a schema must be a JSON list")
        return cls(tuple(_spec_from_dict(item) for item in raw))


def _spec_from_dict(item: Any) -> Spec:
    if not isinstance(item, Mapping) or "type" not in item:
        raise InvalidModel(f"invalid schema entry {brief(item)}")
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidModel(f"schema names must be strings, got {brief(name)}")
    if item["type"] == "tensor":
        tensor = item.get("tensor-spec")
        if not isinstance(tensor, Mapping) or "dtype" not in tensor or "shape" not in tensor:
            raise InvalidModel(f"invalid tensor spec {brief(item)}")
        shape = tensor["shape"]
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= -1 for d in shape):
            raise InvalidModel(f"invalid tensor shape {brief(shape)}")
        return TensorSpec(dtype=str(tensor["dtype"]), shape=tuple(shape), name=name)
    column_type = item["type"]
    if column_type in ("array", "object", "map"):
        column_type = {k: v for k, v in item.items() if k not in ("name", "required")}
    return ColSpec(type=_column_type(column_type), name=name, required=bool(item.get("required", True)))


@dataclass(frozen=True)
class ParamSpec:
    """One inference parameter: a scalar (shape None) or a 1-D list (shape ``(-1,)``)."""

    name: str
    type: DataType
    default: Any
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "shape": list(self.shape) if self.shape is not None else None,
            "type": self.type.value,
        }


@dataclass(frozen=True)
class ParamSchema:
    """The parameters a model accepts at predict time."""

    params: tuple[ParamSpec, ...]

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def to_json(self) -> str:
        return json.dumps([param.to_dict() for param in self.params])

    @classmethod
    def from_json(cls, text: str | Sequence[Any]) -> ParamSchema:
        raw = _parse(text, "params schema")
        if not isinstance(raw, list):
            raise InvalidModel("a params schema must be a JSON list")
        params = []
        for item in raw:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise InvalidModel(f"invalid param spec {brief(item)}")
            raw_type = item.get("type")
            if not isinstance(raw_type, str):
                raise InvalidModel(f"param {item['name']!r} has no valid type")
            shape = item.get("shape")
            if shape is not None and list(shape) != [-1]:
                raise InvalidModel(f"param {item['name']!r}: shape must be null or [-1], got {brief(shape)}")
            params.append(
                ParamSpec(
                    name=item["name"],
                    type=DataType(raw_type) if raw_type in DataType.__members__ else _bad_type(raw_type),
                    default=item.get("default"),
                    shape=tuple(shape) if shape is not None else None,
                )
            )
        return cls(tuple(params))


def _bad_type(raw: str) -> DataType:
    raise InvalidModel(f"unknown param type {brief(raw)}")


@dataclass(frozen=True)
class ModelSignature:
    """What a model takes and returns: input schema, output schema, params schema."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: ParamSchema | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The MLmodel form: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params is not None else None,
            **self.extra,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ModelSignature:
        if not isinstance(raw, Mapping):
            raise InvalidModel("signature must be a mapping of inputs/outputs/params")
        parts: dict[str, Any] = {}
        for key, parse in (
            ("inputs", Schema.from_json),
            ("outputs", Schema.from_json),
            ("params", ParamSchema.from_json),
        ):
            value = raw.get(key)
            try:
                parts[key] = parse(value) if value is not None else None
            except InvalidModel as exc:
                raise InvalidModel(f"the MLmodel's signature {key}: {exc}") from None
        return cls(**parts, extra={k: v for k, v in raw.items() if k not in ("inputs", "outputs", "params")})


def _parse(text: str | Sequence[Any], what: str) -> Any:
    if isinstance(text, str):
        try:
            text = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidModel(f"{what} is not valid JSON: {exc}") from None
        except RecursionError:
            raise InvalidModel(f"{what} is nested more than {MAX_NESTING} levels deep") from None
    check_nesting(text, MAX_NESTING, what)
    return text


__all__ = [
    "MAX_NESTING",
    "ColSpec",
    "ColumnType",
    "DataType",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "Schema",
    "Spec",
    "TensorSpec",
    "brief",
    "check_nesting",
]
