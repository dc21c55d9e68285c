"""The UDF's Spark result type, and turning a model's predictions into it.

Result types (MLflow's ``spark_udf`` rules, made strict): a primitive (``boolean``, ``tinyint`` ..
``bigint``, ``float``, ``double``, ``string``, ``binary``, ``timestamp``, ``date``), an array of
those (nested arrays too), or a struct whose fields are either. Without one, it is inferred from the
signature's outputs: one output gives its type, several named outputs a struct; no output schema
gives ``double``.

Predictions become pandas for Arrow: a struct takes the output of each field's name (or position,
for unnamed outputs); an array takes a 2-D output row by row (or the columns of a table); a
primitive takes the single output, or the leftmost one of that kind. Values are converted only
when nothing is lost (integers never come from fractions, nor from numbers out of range).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from pack.errors import InvalidInput, SchemaError
from pack.flavors.schema import ColSpec, ModelSignature, Spec, TensorSpec
from pack.flavors.schema import DataType as ColumnType

_INTEGERS: dict[type[DataType], str] = {
    ByteType: "int8",
    ShortType: "int16",
    IntegerType: "int32",
    LongType: "int64",
}
_FLOATS: dict[type[DataType], str] = {FloatType: "float32", DoubleType: "float64"}
_PRIMITIVES: tuple[type[DataType], ...] = (
    BooleanType,
    *_INTEGERS,
    *_FLOATS,
    StringType,
    BinaryType,
    TimestampType,
    TimestampNTZType,
    DateType,
)
_FROM_COLUMN: dict[ColumnType, DataType] = {
    ColumnType.boolean: BooleanType(),
    ColumnType.integer: IntegerType(),
    ColumnType.long: LongType(),
    ColumnType.float: FloatType(),
    ColumnType.double: DoubleType(),
    ColumnType.string: StringType(),
    ColumnType.binary: BinaryType(),
    ColumnType.datetime: TimestampType(),
}


def result_type_for(result_type: str | DataType | None, signature: ModelSignature | None) -> DataType:
    """The UDF's return type: ``result_type`` (a DDL string or a Spark type) or the signature's.

    Raises:
        InvalidInput: the type is malformed, or not one the UDF can return.
    """
    if result_type is None:
        outputs = signature.outputs if signature is not None else None
        if outputs is None or len(outputs) == 0:
            return DoubleType()
        if len(outputs) == 1:
            return spark_type(outputs.specs[0])
        return StructType([StructField(spec.name or str(i), spark_type(spec)) for i, spec in enumerate(outputs.specs)])
    if isinstance(result_type, str):
        try:
            parsed = DataType.fromDDL("boolean" if result_type.strip() == "bool" else result_type)
        except Exception as exc:  # pyspark raises its own ParseException family
            raise InvalidInput(f"result_type {result_type!r} is not a Spark type: {str(exc).splitlines()[0]}") from None
    elif isinstance(result_type, DataType):
        parsed = result_type
    else:
        raise InvalidInput(f"result_type must be a DDL string or a pyspark DataType, got {type(result_type).__name__}")
    _check_supported(parsed)
    return parsed


def _check_supported(kind: DataType, inside_struct: bool = False) -> None:
    if isinstance(kind, _PRIMITIVES):
        return
    if isinstance(kind, ArrayType):
        _check_supported(kind.elementType, inside_struct=True)
        return
    if isinstance(kind, StructType) and not inside_struct:
        for field in kind.fields:
            _check_supported(field.dataType, inside_struct=True)
        return
    raise InvalidInput(
        f"result_type {kind.simpleString()} is not supported: use a primitive type, an array of them, "
        "or a struct of those (e.g. 'struct<label:bigint,scores:array<double>>')"
    )


def spark_type(spec: Spec) -> DataType:
    """The Spark type of one signature column or tensor (a tensor's extra dimensions become arrays).

    Raises:
        InvalidInput: the spec has no Spark counterpart.
    """
    if isinstance(spec, TensorSpec):
        element = _numpy_type(np.dtype(spec.dtype), spec.name)
        for _ in spec.shape[1:]:
            element = ArrayType(element)
        return element
    return _column_type(spec)


def _column_type(spec: ColSpec) -> DataType:
    kind = spec.type
    if isinstance(kind, ColumnType):
        return _FROM_COLUMN[kind]
    if kind.get("type") == "array" and isinstance(kind.get("items"), Mapping):
        items = kind["items"]
        return ArrayType(_column_type(ColSpec(type=_composite(items), name=spec.name)))
    raise InvalidInput(f"cannot infer a Spark type for output {spec.name or 0!r} ({spec.type_name}): pass result_type")


def _composite(raw: Mapping[str, Any]) -> Any:
    kind = raw.get("type")
    return ColumnType(kind) if kind in ColumnType.__members__ else dict(raw)


def _numpy_type(dtype: np.dtype[Any], name: str | None) -> DataType:
    if dtype.kind == "b":
        return BooleanType()
    if dtype.kind in "iu":
        widened = dtype.itemsize * (2 if dtype.kind == "u" else 1)
        return {1: ByteType(), 2: ShortType(), 4: IntegerType()}.get(widened, LongType())
    if dtype.kind == "f":
        return DoubleType() if dtype.itemsize > 4 else FloatType()
    if dtype.kind in "OU":
        return StringType()
    if dtype.kind == "S":
        return BinaryType()
    if dtype.kind == "M":
        return TimestampType()
    raise InvalidInput(f"cannot infer a Spark type for output {name or 0!r} (dtype {dtype}): pass result_type")


# predictions -> pandas -----------------------------------------------------------------------------


def to_spark(prediction: Any, kind: DataType) -> pd.Series | pd.DataFrame:
    """Convert one batch's predictions to what a pandas UDF of return type ``kind`` yields.

    Raises:
        SchemaError: the predictions cannot be represented as ``kind`` without loss.
    """
    outputs = _outputs(prediction)
    if isinstance(kind, StructType):
        return pd.DataFrame({field.name: _field(outputs, field, i) for i, field in enumerate(kind.fields)})
    if isinstance(kind, ArrayType):
        return pd.Series(_array_rows(outputs, kind))
    return pd.Series(_leftmost(outputs, kind))


def _outputs(prediction: Any) -> list[tuple[str | None, np.ndarray]]:
    """The prediction as ``(name, values)`` pairs; values have one row per input row."""
    if isinstance(prediction, pd.DataFrame):
        return [(str(name), prediction[name].to_numpy()) for name in prediction.columns]
    if isinstance(prediction, Mapping):
        return [(str(name), _array(values)) for name, values in prediction.items()]
    return [(None, _array(prediction))]


def _array(values: Any) -> np.ndarray:
    array: np.ndarray = values.to_numpy() if isinstance(values, (pd.Series, pd.DataFrame)) else np.asarray(values)
    return array.reshape(1) if array.ndim == 0 else array


def _field(outputs: list[tuple[str | None, np.ndarray]], field: StructField, position: int) -> Any:
    named = {name: values for name, values in outputs if name is not None}
    if field.name in named:
        values = named[field.name]
    elif not named and len(outputs) == 1 and outputs[0][1].ndim == 2 and position < outputs[0][1].shape[1]:
        values = outputs[0][1][:, position]  # one unnamed table: fields by position
    elif not named and position < len(outputs):
        values = outputs[position][1]
    else:
        have = ", ".join(str(name) for name, _ in outputs) or "none"
        raise SchemaError(f"the model returned no output {field.name!r} for the result struct (outputs: {have})")
    if isinstance(field.dataType, ArrayType):
        return _array_rows([(field.name, values)], field.dataType)
    return _convert(_column(values, field.name), field.dataType, field.name)


def _array_rows(outputs: list[tuple[str | None, np.ndarray]], kind: ArrayType) -> list[Any]:
    values = outputs[0][1] if len(outputs) == 1 else np.column_stack([_column(v, n) for n, v in outputs])
    if values.ndim == 1 and values.dtype == object:  # one array (or list) per row
        return [None if row is None else _nested(np.asarray(row), kind.elementType) for row in values]
    if values.ndim < 2:
        raise SchemaError(f"the model returned one value per row; result_type {kind.simpleString()} needs arrays")
    if values.ndim == 2 and not isinstance(kind.elementType, ArrayType):  # the common case, converted at once
        flat = _convert(values.reshape(-1), kind.elementType, None)
        return list(np.asarray(flat).reshape(values.shape))
    return [_nested(row, kind.elementType) for row in values]


def _nested(values: np.ndarray, kind: DataType) -> Any:
    if isinstance(kind, ArrayType):
        return [_nested(np.asarray(row), kind.elementType) for row in values]
    return _convert(values.reshape(-1), kind, None)


def _leftmost(outputs: list[tuple[str | None, np.ndarray]], kind: DataType) -> Any:
    columns = [(name, values) for name, values in outputs if values.ndim in (1, 2)]
    split = [
        (name, values[:, i] if values.ndim == 2 else values)
        for name, values in columns
        for i in range(values.shape[1] if values.ndim == 2 else 1)
    ]
    if len(split) == 1:
        return _convert(split[0][1], kind, split[0][0])
    for name, values in split:  # MLflow's rule: the leftmost output of a matching kind
        try:
            return _convert(values, kind, name)
        except SchemaError:
            continue
    names = ", ".join(str(name) for name, _ in outputs)
    raise SchemaError(
        f"none of the model's {len(split)} outputs ({names}) converts to {kind.simpleString()}: "
        "pass result_type as a struct or an array"
    )


def _column(values: np.ndarray, name: str | None) -> np.ndarray:
    if values.ndim == 2 and values.shape[1] == 1:
        return values[:, 0]
    if values.ndim != 1:
        raise SchemaError(f"output {name or 0!r} has shape {values.shape[1:]} per row; ask for an array type")
    return values


def _convert(values: np.ndarray, kind: DataType, name: str | None) -> Any:
    label = f"output {name!r}" if name is not None else "the model's output"
    if isinstance(kind, BooleanType):
        if values.dtype.kind != "b":
            raise SchemaError(f"{label} holds {values.dtype} values, not booleans")
        return values
    if type(kind) in _INTEGERS:
        return _to_integer(values, _INTEGERS[type(kind)], label)
    if type(kind) in _FLOATS:
        if values.dtype.kind not in "biuf":
            raise SchemaError(f"{label} holds {values.dtype} values, not numbers")
        return values.astype(_FLOATS[type(kind)])
    if isinstance(kind, StringType):
        return values if values.dtype.kind == "O" and _all_str(values) else values.astype(str).astype(object)
    if isinstance(kind, BinaryType):
        if values.dtype.kind not in "SO":
            raise SchemaError(f"{label} holds {values.dtype} values, not bytes")
        return values
    if isinstance(kind, DateType):
        return pd.to_datetime(values).date
    return pd.to_datetime(values)  # timestamps


def _to_integer(values: np.ndarray, dtype: str, label: str) -> np.ndarray:
    if values.dtype.kind == "b":
        return values.astype(dtype)
    if values.dtype.kind not in "iu":
        raise SchemaError(f"{label} holds {values.dtype} values, not integers: ask for a float type")
    info = np.iinfo(dtype)
    if values.size and (values.min() < info.min or values.max() > info.max):
        raise SchemaError(f"{label} holds integers outside the range of {dtype}")
    return values.astype(dtype)


def _all_str(values: np.ndarray) -> bool:
    return all(isinstance(value, str) or value is None for value in values)


__all__ = ["result_type_for", "spark_type", "to_spark"]
