"""One batch of UDF arguments to the model's input: names, positions, tensors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'pack[spark]')")

from pack.errors import SchemaError
from pack.flavors.schema import ColSpec, DataType, Schema, TensorSpec
from pack.flavors.table import NumericTable
from pack.spark.inputs import InputPlan, check_names, model_input, table_input

COLUMNS = Schema((ColSpec(DataType.double, "a"), ColSpec(DataType.double, "b"), ColSpec(DataType.long, "c", False)))


def test_columns_go_by_name_or_by_position_for_plain_columns():
    frame = pd.DataFrame({"b": [2.0], "a": [1.0]})
    assert model_input(InputPlan(COLUMNS, by_position=False), (frame,)) is frame  # names cover the inputs
    renamed = model_input(InputPlan(COLUMNS, by_position=True), (pd.DataFrame({"x": [1.0], "y": [2.0]}),))
    assert list(renamed.columns) == ["a", "b"]
    unnamed = model_input(InputPlan(COLUMNS, by_position=False), (pd.Series([1.0]), pd.Series([2.0])))
    assert list(unnamed.columns) == ["a", "b"] and unnamed.iloc[0].tolist() == [1.0, 2.0]
    named = model_input(InputPlan(COLUMNS, True, names=("b", "a")), (pd.Series([2.0]), pd.Series([1.0])))
    assert named[["a", "b"]].iloc[0].tolist() == [1.0, 2.0]  # plain columns passed by name keep their names
    with pytest.raises(SchemaError, match=r"missing inputs \['a', 'b'\]"):
        model_input(InputPlan(COLUMNS, by_position=False), (pd.DataFrame({"x": [1.0], "y": [2.0]}),))


def test_names_given_at_call_time_are_checked_before_any_job():
    assert check_names(COLUMNS, ["b", "a"]) is None
    assert check_names(COLUMNS, ["x", "y", "z"]) == ["a", "b", "c"]
    with pytest.raises(SchemaError, match=r"missing inputs \['b'\]"):
        check_names(COLUMNS, ["a"])


def test_flat_arrays_take_the_tensor_shape_and_dtype():
    spec = Schema((TensorSpec("float32", (-1, 1, 2, 2), "image"),))
    rows = pd.Series([np.arange(4, dtype=np.float64), np.arange(4, 8, dtype=np.float64)])
    tensor = model_input(InputPlan(spec, by_position=False), (rows,))
    assert tensor.shape == (2, 1, 2, 2) and tensor.dtype == np.float32
    assert tensor[1, 0, 1, 1] == 7.0
    with pytest.raises(SchemaError, match="rows of 3 values do not fit shape"):
        model_input(InputPlan(spec, by_position=False), (pd.Series([np.zeros(3), np.zeros(3)]),))


def test_nested_arrays_and_scalar_columns_stack_into_tensors():
    spec = Schema((TensorSpec("float64", (-1, 2, 2)),))
    nested = pd.Series([np.array([np.array([1.0, 2.0]), np.array([3.0, 4.0])], dtype=object)] * 3)
    assert model_input(InputPlan(spec, by_position=False), (nested,)).shape == (3, 2, 2)
    flat = Schema((TensorSpec("float32", (-1, 3), "x"),))
    table = pd.DataFrame({"p": [1.0, 4.0], "q": [2.0, 5.0], "r": [3.0, 6.0]})
    np.testing.assert_array_equal(
        model_input(InputPlan(flat, by_position=True), (table,)), np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
    )
    named = Schema((TensorSpec("int64", (-1, 2), "a"), TensorSpec("int64", (-1,), "b")))
    both = model_input(InputPlan(named, by_position=False), (pd.DataFrame({"a": [[1, 2], [3, 4]], "b": [5, 6]}),))
    assert both["a"].shape == (2, 2) and both["b"].tolist() == [5, 6]


def test_arrow_batches_of_the_signatures_numeric_columns_travel_as_one_array():
    import pyarrow as pa

    uniform = Schema((ColSpec(DataType.double, "a"), ColSpec(DataType.double, "b")))
    plan = InputPlan(uniform, by_position=True, names=("b", "a"))
    assert plan.table_columns == ("a", "b")
    table = table_input(plan, (pa.array([2.0, 4.0]), pa.array([1.0, 3.0])))
    assert isinstance(table, NumericTable) and table.columns == ("a", "b")
    np.testing.assert_array_equal(table.values, [[1.0, 2.0], [3.0, 4.0]])  # the signature's order

    # A null, or a column that is not numeric: pandas columns, as a pandas UDF would get them.
    holes = table_input(plan, (pa.array([2.0, None]), pa.array([1.0, 3.0])))
    assert isinstance(holes, pd.DataFrame) and np.isnan(holes["b"].iloc[1])
    text = table_input(plan, (pa.array(["x", "y"]), pa.array([1.0, 3.0])))
    assert isinstance(text, pd.DataFrame) and text["b"].tolist() == ["x", "y"]

    # Not the signature's columns exactly, or mixed types: never one array.
    assert InputPlan(uniform, True, names=("a",)).table_columns is None
    assert InputPlan(COLUMNS, True, names=("a", "b", "c")).table_columns is None
    assert InputPlan(uniform, by_position=False).table_columns is None  # one struct
