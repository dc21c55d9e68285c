"""Signature inference from example data (pandas, numpy, dicts, lists, scalars)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import InvalidInput
from pack.flavors.schema import ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, Schema, TensorSpec


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """Infer a signature from an input example, the model's output on it, and example params.

    numpy arrays and dicts of arrays give tensor schemas; DataFrames, dicts of lists or scalars,
    lists of records and scalars give column schemas (as MLflow).
    """
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = None
    if model_output is not None:
        if (
            inputs is not None
            and not inputs.is_tensor
            and isinstance(model_output, np.ndarray)
            and model_output.ndim == 1
        ):
            model_output = pd.Series(model_output)
        outputs = infer_schema(model_output)
    return ModelSignature(inputs=inputs, outputs=outputs, params=infer_params(params) if params else None)


def infer_schema(data: Any) -> Schema:
    """Infer a schema from one example object.

    Raises:
        InvalidInput: the object's type or contents cannot be described by a schema.
    """
    if isinstance(data, pd.DataFrame):
        return Schema(tuple(_colspec(data[col], str(col)) for col in data.columns))
    if isinstance(data, pd.Series):
        return Schema((_colspec(data, None if data.name is None else str(data.name)),))
    if isinstance(data, np.ndarray):
        return Schema((_tensor(data, None),))
    if isinstance(data, Mapping):
        if not data:
            raise InvalidInput("cannot infer a schema from an empty dict")
        if any(not isinstance(key, str) for key in data):
            raise InvalidInput("dict keys of an input example must be strings")
        if all(isinstance(value, np.ndarray) for value in data.values()):
            return Schema(tuple(_tensor(value, name) for name, value in data.items()))
        columns = {name: value if isinstance(value, list) else [value] for name, value in data.items()}
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1:
            raise InvalidInput("dict example columns have different lengths")
        return infer_schema(pd.DataFrame(columns))
    if isinstance(data, list):
        if not data:
            raise InvalidInput("cannot infer a schema from an empty list")
        if all(isinstance(item, Mapping) for item in data):
            frame = pd.DataFrame.from_records(data)
            specs = tuple(
                ColSpec(
                    _column_type(frame[col], str(col)),
                    name=str(col),
                    required=all(col in item and item[col] is not None for item in data),
                )
                for col in frame.columns
            )
            return Schema(specs)
        if all(isinstance(item, list) for item in data):
            return Schema((_tensor(np.asarray(data), None),))
        return Schema((ColSpec(_column_type(pd.Series(data), "input")),))
    if isinstance(data, (str, bytes, bool, int, float, np.generic, dt.datetime)):
        return Schema((ColSpec(_column_type(pd.Series([data]), "input")),))
    raise InvalidInput(
        f"cannot infer a schema from {type(data).__name__}: use a pandas DataFrame, numpy array, "
        "dict of arrays or lists, list of records, or a scalar"
    )


def infer_params(params: Mapping[str, Any]) -> ParamSchema:
    """A params schema whose defaults are the example's values."""
    specs = []
    for name, value in params.items():
        if isinstance(value, (list, tuple, np.ndarray)):
            values = list(value)
            if not values:
                raise InvalidInput(f"cannot infer the type of empty list param {name!r}")
            specs.append(ParamSpec(name, _scalar_type(values[0], name), values, (-1,)))
        else:
            specs.append(ParamSpec(name, _scalar_type(value, name), _plain(value), None))
    return ParamSchema(tuple(specs))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _scalar_type(value: Any, name: str) -> DataType:
    if isinstance(value, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(value, (int, np.integer)):
        return DataType.long
    if isinstance(value, np.floating) and value.dtype.itemsize <= 4:
        return DataType.float
    if isinstance(value, (float, np.floating)):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, bytes):
        return DataType.binary
    if isinstance(value, (dt.datetime, dt.date, np.datetime64)):
        return DataType.datetime
    raise InvalidInput(f"cannot infer a type for param {name!r} from {type(value).__name__}")


def _colspec(series: pd.Series, name: str | None) -> ColSpec:
    return ColSpec(_column_type(series, name or "input"), name=name, required=not bool(series.isna().any()))


def _column_type(series: pd.Series, name: str) -> DataType:
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return numpy_to_datatype(dtype, name)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return DataType.datetime
    if isinstance(dtype, pd.StringDtype):
        return DataType.string
    if isinstance(dtype, pd.BooleanDtype):
        return DataType.boolean
    if hasattr(dtype, "numpy_dtype") and not isinstance(dtype, pd.CategoricalDtype):
        return numpy_to_datatype(np.dtype(dtype.numpy_dtype), name)
    values = series.dropna()
    if values.empty:
        raise InvalidInput(f"cannot infer the type of column {name!r}: it has no values")
    kinds = {type(v) for v in values}
    if kinds <= {str}:
        return DataType.string
    if kinds <= {bytes, bytearray}:
        return DataType.binary
    if kinds <= {bool, np.bool_}:
        return DataType.boolean
    if all(issubclass(k, (dt.datetime, np.datetime64, pd.Timestamp)) for k in kinds):
        return DataType.datetime
    inferred = series.infer_objects().dtype
    if isinstance(inferred, np.dtype) and inferred.kind in "biuf":
        return numpy_to_datatype(inferred, name)
    raise InvalidInput(f"cannot infer the type of column {name!r}: values of types {sorted(k.__name__ for k in kinds)}")


def numpy_to_datatype(dtype: np.dtype[Any], name: str = "input") -> DataType:
    """The column type of a numpy dtype.

    Raises:
        InvalidInput: the dtype has no column type (complex, void, ...).
    """
    if dtype.kind == "b":
        return DataType.boolean
    if dtype.kind in "iu":
        if dtype.itemsize < 4 or (dtype.kind == "i" and dtype.itemsize == 4):
            return DataType.integer
        if dtype.itemsize < 8 or dtype.kind == "i":
            return DataType.long
    if dtype.kind == "f":
        return DataType.float if dtype.itemsize <= 4 else DataType.double
    if dtype.kind == "U":
        return DataType.string
    if dtype.kind == "S":
        return DataType.binary
    if dtype.kind == "M":
        return DataType.datetime
    raise InvalidInput(f"column {name!r} has dtype {dtype} which has no signature type")


def _tensor(array: np.ndarray, name: str | None) -> TensorSpec:
    if array.dtype.kind == "O":
        dtype = "object"
    elif array.dtype.kind in "US":
        dtype = "str" if array.dtype.kind == "U" else "bytes"
    else:
        dtype = array.dtype.name
    shape = (-1, *array.shape[1:]) if array.ndim >= 1 else ()
    return TensorSpec(dtype=dtype, shape=shape, name=name)


__all__ = ["infer_params", "infer_schema", "infer_signature", "numpy_to_datatype"]
