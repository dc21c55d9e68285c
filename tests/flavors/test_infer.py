from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pack.errors import InvalidInput
from pack.flavors.infer import infer_schema, infer_signature
from pack.flavors.schema import ColSpec, DataType, ParamSpec, TensorSpec


def test_dataframe_dtypes_map_to_column_types():
    frame = pd.DataFrame(
        {
            "b": [True, False],
            "i32": np.array([1, 2], dtype=np.int32),
            "i64": [1, 2],
            "f32": np.array([1.0, 2.0], dtype=np.float32),
            "f64": [1.0, None],
            "s": ["a", "b"],
            "bin": [b"a", b"b"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "obj_s": pd.Series(["x", "y"], dtype=object),
        }
    )
    specs = infer_schema(frame).specs
    assert [s.type for s in specs] == [
        DataType.boolean,
        DataType.integer,
        DataType.long,
        DataType.float,
        DataType.double,
        DataType.string,
        DataType.binary,
        DataType.datetime,
        DataType.string,
    ]
    assert specs[4] == ColSpec(DataType.double, "f64", required=False)


def test_arrays_give_tensor_specs():
    assert infer_schema(np.zeros((4, 28, 28), dtype=np.float32)).specs == (TensorSpec("float32", (-1, 28, 28)),)
    named = infer_schema({"a": np.zeros((2, 3)), "b": np.zeros(2, dtype=np.int64)})
    assert named.specs == (TensorSpec("float64", (-1, 3), "a"), TensorSpec("int64", (-1,), "b"))


def test_records_dicts_and_scalars_give_columns():
    records = infer_schema([{"a": 1, "b": "x"}, {"a": 2, "b": None}])
    assert records.specs == (ColSpec(DataType.long, "a"), ColSpec(DataType.string, "b", required=False))
    assert infer_schema({"a": [1.5, 2.5]}).specs == (ColSpec(DataType.double, "a"),)
    assert infer_schema("hello").specs == (ColSpec(DataType.string),)
    assert infer_schema(["x", "y"]).specs == (ColSpec(DataType.string),)


def test_signature_with_output_and_params():
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    signature = infer_signature(
        frame,
        np.array([0, 1]),
        {"t": 0.5, "n": 3, "flag": True, "stops": ["a"], "when": dt.datetime(2024, 1, 1)},
    )
    assert signature.outputs.specs == (ColSpec(DataType.long),)
    assert list(signature.params) == [
        ParamSpec("t", DataType.double, 0.5),
        ParamSpec("n", DataType.long, 3),
        ParamSpec("flag", DataType.boolean, True),
        ParamSpec("stops", DataType.string, ["a"], (-1,)),
        ParamSpec("when", DataType.datetime, "2024-01-01T00:00:00"),
    ]
    tensor_out = infer_signature(np.zeros((2, 3), dtype=np.float32), np.zeros((2, 2), dtype=np.float32))
    assert tensor_out.outputs.specs == (TensorSpec("float32", (-1, 2)),)


@pytest.mark.parametrize("bad", [object(), {}, [], {"a": [1], "b": [1, 2]}, pd.DataFrame({"c": [None, None]})])
def test_uninferable_examples(bad):
    with pytest.raises(InvalidInput):
        infer_schema(bad)
