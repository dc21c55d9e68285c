"""Turning one Arrow batch of the UDF's arguments into the model's input, and naming the columns.

What a batch holds depends on how the UDF was called: a struct column arrives as a DataFrame (its
field names are the column names); plain columns arrive as unnamed Series (named again from the
plan when the caller gave their names). Columns reach the model by name when their names cover the
signature's required inputs; plain columns whose names differ are taken in the signature's order
(MLflow's rule for unnamed columns). Tensor inputs take array columns (one array per row, flat
arrays reshaped to the tensor's fixed shape, values cast to its dtype), or several numeric columns
stacked into one tensor.

The signature itself is enforced afterwards by ``PyFuncModel.predict``, as for any other input.

An Arrow UDF's batch (``table_input``) of the signature's columns, all of its one numeric type and
without nulls, goes to the model as one array (a ``NumericTable``), as a scoring request's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pack.errors import SchemaError
from pack.flavors.schema import ColSpec, Schema, TensorSpec
from pack.flavors.table import NumericTable


@dataclass(frozen=True)
class InputPlan:
    """How one call of the UDF maps its arguments to the model's inputs.

    Attributes:
        schema: the signature's inputs (None: the columns go to the model as they are).
        by_position: the caller passed plain columns, so names that do not match the signature
            are mapped in the signature's order.
        names: the names of the plain columns passed (None: unnamed, or one struct).
    """

    schema: Schema | None
    by_position: bool
    names: tuple[str, ...] | None = None

    @property
    def table_columns(self) -> tuple[str, ...] | None:
        """The signature's column names when the caller passed exactly those (any order) as plain
        columns and they all share one numeric type: such batches can travel as one array."""
        uniform = self.schema.uniform_columns if self.schema is not None else None
        if uniform is None or self.names is None or sorted(self.names) != sorted(uniform[1]):
            return None
        return uniform[1]


def required_names(schema: Schema) -> list[str]:
    """The named inputs a caller must provide."""
    return [spec.name for spec in schema if spec.name is not None and (not isinstance(spec, ColSpec) or spec.required)]


def check_names(schema: Schema | None, names: Sequence[str]) -> list[str] | None:
    """Check column names given at call time against the signature, before any job runs.

    Returns:
        None when the columns match by name, else the signature names they map to by position.

    Raises:
        SchemaError: too few columns to cover the signature's required inputs.
    """
    if schema is None or not schema.has_names:
        return None
    required = required_names(schema)
    if set(required) <= set(names) or (schema.is_tensor and len(schema) == 1):
        return None
    if len(required) <= len(names) <= len(schema):
        return schema.names[: len(names)]
    missing = [name for name in required if name not in names]
    raise SchemaError(
        f"Model is missing inputs {missing}: the UDF was given columns {list(names)}, the model takes "
        f"{schema.names} (pass struct(...) of those columns, or alias them)"
    )


def model_input(plan: InputPlan, args: tuple[pd.Series | pd.DataFrame, ...]) -> Any:
    """The model's input for one batch of UDF arguments.

    Raises:
        SchemaError: the columns do not cover the signature's required inputs.
    """
    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        frame, by_position = args[0], plan.by_position
    else:
        names = plan.names if plan.names is not None else range(len(args))
        frame = pd.DataFrame({str(name): _plain(arg) for name, arg in zip(names, args, strict=True)})
        by_position = True
    schema = plan.schema
    if schema is None:
        return frame
    if schema.is_tensor:
        return _tensors(schema, frame, by_position)
    return _named(schema, frame, by_position)


def table_input(plan: InputPlan, arrays: Sequence[Any]) -> Any:
    """The model's input for one batch of an Arrow UDF's arguments (``pyarrow.Array`` each): one
    ``NumericTable`` in the signature's column order when the plan allows and every column is numeric
    without nulls, else as ``model_input`` makes it from the same columns as pandas Series (and the
    signature's enforcement names what does not fit)."""
    columns = plan.table_columns
    if columns is None or not all(_numeric(array) for array in arrays):
        return model_input(plan, tuple(array.to_pandas() for array in arrays))
    by_name = dict(zip(plan.names or (), arrays, strict=True))
    return NumericTable(np.column_stack([by_name[name].to_numpy() for name in columns]), columns)


def _numeric(array: Any) -> bool:
    import pyarrow as pa  # lazy: only Arrow UDFs pass pyarrow arrays

    kind = array.type
    return bool(array.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_floating(kind)))


def _plain(arg: pd.Series | pd.DataFrame) -> Any:
    if isinstance(arg, pd.DataFrame):  # a struct among several arguments: one dict per row
        return arg.to_dict(orient="records")
    return arg


def _named(schema: Schema, frame: pd.DataFrame, by_position: bool) -> pd.DataFrame:
    if not schema.has_names:
        return frame
    required = required_names(schema)
    columns = [str(name) for name in frame.columns]
    if set(required) <= set(columns):
        return frame
    if by_position and len(required) <= len(columns):
        count = min(len(columns), len(schema))
        return frame.iloc[:, :count].set_axis(schema.names[:count], axis=1)
    missing = [name for name in required if name not in columns]
    raise SchemaError(f"Model is missing inputs {missing} (the UDF got columns {columns})")


def _tensors(schema: Schema, frame: pd.DataFrame, by_position: bool) -> Any:
    specs = [spec for spec in schema.specs if isinstance(spec, TensorSpec)]
    if len(specs) == 1:
        spec = specs[0]
        if spec.name is not None and spec.name in frame.columns:
            return _tensor(spec, frame[spec.name])
        if frame.shape[1] == 1:
            return _tensor(spec, frame.iloc[:, 0])
        return _tensor(spec, frame)  # several numeric columns: one row of the tensor each
    named = _named(schema, frame, by_position)
    return {spec.name: _tensor(spec, named[spec.name]) for spec in specs if spec.name is not None}


def _tensor(spec: TensorSpec, values: pd.Series | pd.DataFrame) -> np.ndarray:
    array: np.ndarray = values.to_numpy()
    while array.dtype == object and array.size and isinstance(array.flat[0], (np.ndarray, list)):
        try:
            array = np.stack([np.asarray(item) for item in array.reshape(-1)]).reshape(*array.shape, -1)
        except ValueError:
            raise SchemaError(f"input {spec.name or 0!r}: rows hold arrays of different lengths") from None
    if array.ndim == 2 and array.shape[1] == 1 and len(spec.shape) == 1:
        array = array[:, 0]
    fixed = spec.shape[1:]
    if len(spec.shape) > 2 and array.ndim == 2 and all(dim > 0 for dim in fixed):
        if array.shape[1] != int(np.prod(fixed)):
            raise SchemaError(
                f"input {spec.name or 0!r}: rows of {array.shape[1]} values do not fit shape {spec.shape}"
            )
        array = array.reshape(-1, *fixed)  # MLflow's rule: flat arrays, C order
    target = np.dtype(spec.dtype)
    if array.dtype != target and array.dtype.kind in "biuf" and target.kind in "biuf":
        array = array.astype(target)
    return array


__all__ = ["InputPlan", "check_names", "model_input", "required_names", "table_input"]
