"""Every signature rule, including the error messages users see."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pack.errors import SchemaError, SchemaWarning
from pack.flavors.enforce import enforce_input, enforce_params
from pack.flavors.schema import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec

COLUMNS = Schema(
    (
        ColSpec(DataType.double, "x"),
        ColSpec(DataType.long, "n"),
        ColSpec(DataType.string, "s"),
        ColSpec(DataType.boolean, "b", required=False),
    )
)


def frame(**overrides):
    base = {"x": [1.5, 2.5], "n": [1, 2], "s": ["a", "b"]}
    base.update(overrides)
    return pd.DataFrame(base)


def test_matching_frame_passes_through_in_schema_order():
    data = frame()[["s", "n", "x"]]
    out = enforce_input(COLUMNS, data)
    assert list(out.columns) == ["x", "n", "s"]
    assert out["x"].dtype == np.float64 and out["n"].dtype == np.int64


def test_missing_required_column_is_named():
    with pytest.raises(SchemaError, match=r"Model is missing inputs \['n'\]"):
        enforce_input(COLUMNS, frame().drop(columns=["n"]))


def test_missing_column_message_mentions_extras():
    with pytest.raises(SchemaError, match=r"missing inputs \['x'\].*extra inputs: \['y'\]"):
        enforce_input(COLUMNS, frame().drop(columns=["x"]).assign(y=1))


def test_extra_columns_are_dropped_with_a_warning():
    with pytest.warns(SchemaWarning, match=r"\['extra'\]"):
        out = enforce_input(COLUMNS, frame(extra=[0, 0]))
    assert "extra" not in out.columns


def test_optional_column_may_be_absent_or_present():
    assert "b" not in enforce_input(COLUMNS, frame()).columns
    assert enforce_input(COLUMNS, frame(b=[True, False]))["b"].tolist() == [True, False]


@pytest.mark.parametrize(
    ("column", "values", "dtype"),
    [
        ("x", np.array([1, 2], dtype=np.int32), np.float64),  # int -> double
        ("x", np.array([1, 2], dtype=np.int64), np.float64),  # int64 values that fit exactly
        ("x", np.array([1.5, 2.5], dtype=np.float32), np.float64),  # float -> double
        ("n", np.array([1, 2], dtype=np.int16), np.int64),  # int -> long
        ("n", np.array([1, 2], dtype=np.uint32), np.int64),
    ],
)
def test_safe_conversions(column, values, dtype):
    out = enforce_input(COLUMNS, frame(**{column: values}))
    assert out[column].dtype == dtype
    assert out[column].tolist() == list(values.astype(dtype))


def test_caller_frame_is_never_modified():
    data = frame(x=np.array([1, 2], dtype=np.int32))
    enforce_input(COLUMNS, data)
    assert data["x"].dtype == np.int32


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("n", [1.5, 2.5], "column 'n': cannot safely convert float64 to long"),
        ("x", ["a", "b"], r"column 'x': cannot safely convert .*str.* to double"),
        ("s", [1, 2], "column 's': cannot safely convert int64 to string"),
        ("n", [1.0, np.nan], "missing values"),
        ("x", np.array([2**60, 1], dtype=np.int64), "column 'x': cannot safely convert int64 to double"),
    ],
)
def test_unsafe_conversions_name_column_and_types(column, values, message):
    with pytest.raises(SchemaError, match=message):
        enforce_input(COLUMNS, frame(**{column: values}))


def test_integer_narrowing_only_when_values_fit():
    schema = Schema((ColSpec(DataType.integer, "i"), ColSpec(DataType.float, "f")))
    out = enforce_input(schema, pd.DataFrame({"i": [1, 2], "f": np.array([1.0, 2.0], dtype=np.float32)}))
    assert out["i"].dtype == np.int32
    with pytest.raises(SchemaError, match="column 'i'"):
        enforce_input(schema, pd.DataFrame({"i": [2**40, 1], "f": np.float32([1, 2])}))
    with pytest.raises(SchemaError, match="column 'f': cannot safely convert float64 to float"):
        enforce_input(schema, pd.DataFrame({"i": [1, 2], "f": [1.0, 2.0]}))


def test_datetime_and_binary_columns():
    schema = Schema((ColSpec(DataType.datetime, "t"), ColSpec(DataType.binary, "raw")))
    out = enforce_input(schema, pd.DataFrame({"t": ["2024-01-02T03:04:05"], "raw": ["aGk="]}))
    assert out["t"].iloc[0] == pd.Timestamp("2024-01-02 03:04:05")
    assert out["raw"].iloc[0] == b"hi"
    with pytest.raises(SchemaError, match=r"column 't'.*ISO-8601"):
        enforce_input(schema, pd.DataFrame({"t": ["not a date"], "raw": [b"x"]}))


def test_other_containers_become_frames():
    records = [{"x": 1.0, "n": 1, "s": "a"}]
    assert enforce_input(COLUMNS, records).shape == (1, 3)
    assert enforce_input(COLUMNS, {"x": [1.0], "n": [1], "s": ["a"]}).shape == (1, 3)
    assert enforce_input(COLUMNS, {"x": 1.0, "n": 1, "s": "a"}).shape == (1, 3)
    numeric = Schema((ColSpec(DataType.double, "a"), ColSpec(DataType.double, "b")))
    out = enforce_input(numeric, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert list(out.columns) == ["a", "b"] and out["b"].tolist() == [2.0, 4.0]


def test_unnamed_schema_is_positional():
    schema = Schema((ColSpec(DataType.double), ColSpec(DataType.double)))
    assert enforce_input(schema, np.ones((3, 2))).shape == (3, 2)
    with pytest.raises(SchemaError, match="expects 2 input columns, got 1"):
        enforce_input(schema, np.ones((3, 1)))


def test_tensor_shape_and_dtype_errors_name_everything():
    schema = Schema((TensorSpec("float32", (-1, 28, 28), "image"),))
    good = np.zeros((2, 28, 28), dtype=np.float32)
    assert enforce_input(schema, good) is good
    with pytest.raises(SchemaError, match=r"Input 'image': expected shape \(-1, 28, 28\), got \(2, 28, 27\)"):
        enforce_input(schema, np.zeros((2, 28, 27), dtype=np.float32))
    with pytest.raises(SchemaError, match="Input 'image': expected dtype float32, got float64"):
        enforce_input(schema, np.zeros((2, 28, 28)))
    assert enforce_input(schema, np.zeros((1, 28, 28), dtype=np.int8)).dtype == np.float32  # exact ints widen


def test_named_tensors():
    schema = Schema((TensorSpec("float64", (-1, 2), "a"), TensorSpec("int64", (-1,), "b")))
    out = enforce_input(schema, {"a": np.ones((3, 2)), "b": np.arange(3, dtype=np.int32)})
    assert out["b"].dtype == np.int64
    with pytest.raises(SchemaError, match=r"missing inputs \['b'\]"):
        enforce_input(schema, {"a": np.ones((3, 2))})
    with pytest.raises(SchemaError, match="named tensors"):
        enforce_input(schema, [1, 2])


PARAMS = ParamSchema(
    (
        ParamSpec("t", DataType.double, 0.5),
        ParamSpec("k", DataType.long, 3),
        ParamSpec("stops", DataType.string, ["."], (-1,)),
        ParamSpec("when", DataType.datetime, None),
    )
)


def test_params_defaults_and_safe_conversions():
    assert enforce_params(PARAMS, None) == {"t": 0.5, "k": 3, "stops": ["."], "when": None}
    out = enforce_params(PARAMS, {"t": 1, "stops": ["a", "b"], "when": "2024-01-01T00:00:00"})
    assert out["t"] == 1.0 and isinstance(out["t"], float)
    assert out["when"] == dt.datetime(2024, 1, 1)


def test_invalid_params_are_all_listed():
    with pytest.raises(SchemaError, match="Invalid parameters found") as info:
        enforce_params(PARAMS, {"t": "hot", "k": 1.5, "stops": "x"})
    for name in ("'t'", "'k'", "'stops'"):
        assert name in str(info.value)


def test_unknown_params_and_missing_schema_warn():
    with pytest.warns(SchemaWarning, match="nope"):
        assert enforce_params(PARAMS, {"nope": 1})["t"] == 0.5
    with pytest.warns(SchemaWarning, match="no params schema"):
        assert enforce_params(None, {"t": 1}) is None
