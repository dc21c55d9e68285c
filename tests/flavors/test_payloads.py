from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest

from pack.errors import InvalidInput
from pack.flavors.payloads import dumps_predictions, parse_csv, parse_json_request, parse_parquet
from pack.flavors.schema import ColSpec, DataType, Schema, TensorSpec

SCHEMA = Schema((ColSpec(DataType.float, "a"), ColSpec(DataType.long, "b"), ColSpec(DataType.string, "c")))


def test_dataframe_split_is_cast_to_the_schema():
    data, params = parse_json_request(
        b'{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2.0, "x"], [0.5, 3, "y"]]}, '
        b'"params": {"k": 1}}',
        SCHEMA,
    )
    assert params == {"k": 1}
    assert data["a"].dtype == np.float32 and data["b"].dtype == np.int64
    assert data["c"].tolist() == ["x", "y"]


def test_numeric_split_takes_the_homogeneous_fast_path():
    data, _ = parse_json_request({"dataframe_split": {"columns": ["p", "q"], "data": [[1.0, 2.0], [3.0, 4.0]]}}, None)
    assert data.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_records_instances_and_inputs():
    records, _ = parse_json_request({"dataframe_records": [{"a": 1, "b": 2, "c": "x"}]}, SCHEMA)
    assert records["a"].dtype == np.float32
    tensor = Schema((TensorSpec("float32", (-1, 2)),))
    rows, _ = parse_json_request({"instances": [[1, 2], [3, 4]]}, tensor)
    assert rows.dtype == np.float32 and rows.shape == (2, 2)
    named, _ = parse_json_request({"instances": [{"x": [1, 2], "y": 1}, {"x": [3, 4], "y": 2}]}, None)
    assert named["x"].shape == (2, 2) and named["y"].tolist() == [1, 2]
    columns, _ = parse_json_request({"inputs": {"a": [1.0], "b": [1], "c": ["z"]}}, SCHEMA)
    assert list(columns.columns) == ["a", "b", "c"]


def test_whole_doubles_become_longs_but_fractions_do_not():
    data, _ = parse_json_request({"dataframe_records": [{"a": 1, "b": 2.0, "c": "x"}]}, SCHEMA)
    assert data["b"].dtype == np.int64
    data, _ = parse_json_request({"dataframe_records": [{"a": 1, "b": 2.5, "c": "x"}]}, SCHEMA)
    assert data["b"].dtype == np.float64  # left for enforcement to refuse, naming the column


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Invalid JSON"),
        (b"[1, 2]", "exactly one of the keys"),
        (b'{"columns": ["a"], "data": [[1]]}', "exactly one of the keys"),
        (b'{"inputs": [1], "instances": [1]}', "exactly one of the keys"),
        (b'{"inputs": [1], "params": 3}', "'params' must be"),
        (b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', "1 values"),
        (b'{"dataframe_split": [1]}', "dataframe_split"),
        (b'{"dataframe_records": {"a": 1}}', "list of objects"),
        (b'{"instances": [{"a": 1}, {"b": 1}]}', "same keys"),
    ],
)
def test_malformed_requests(body, message):
    with pytest.raises(InvalidInput, match=message):
        parse_json_request(body, None)


def test_csv_and_parquet():
    frame = parse_csv(b"a,b,c\n1,2,x\n3,4,y\n", SCHEMA)
    assert frame["a"].dtype == np.float32 and frame["c"].tolist() == ["x", "y"]
    with pytest.raises(InvalidInput, match="Invalid CSV"):
        parse_csv(b"", None)
    source = pd.DataFrame({"a": np.float32([1.0]), "b": [1], "c": ["q"]})
    assert parse_parquet(source.to_parquet(), SCHEMA).equals(source)
    with pytest.raises(InvalidInput, match="Invalid Parquet"):
        parse_parquet(b"PAR1 nope", None)


def test_prediction_encoding():
    assert orjson.loads(dumps_predictions(np.array([0, 1]))) == {"predictions": [0, 1]}
    assert orjson.loads(dumps_predictions(np.array([np.nan, 1.5]))) == {"predictions": [None, 1.5]}
    frame = pd.DataFrame({"p": [0.25], "t": pd.to_datetime(["2024-01-01"])})
    assert orjson.loads(dumps_predictions(frame)) == {"predictions": [{"p": 0.25, "t": "2024-01-01T00:00:00"}]}
    assert orjson.loads(dumps_predictions({"out": np.ones((1, 2), dtype=np.float16)})) == {
        "predictions": {"out": [[1.0, 1.0]]}
    }
    assert orjson.loads(dumps_predictions(pd.Series(["a", None]))) == {"predictions": ["a", None]}
