"""Wire payloads for tensor models: parsed with the signature's dtypes, answered with named outputs."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from pack.errors import SchemaError
from pack.flavors.payloads import dumps_predictions, parse_json_request
from pack.flavors.schema import Schema, TensorSpec

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

import pack  # noqa: E402
import pack.pyfunc  # noqa: E402


@pytest.fixture(scope="module")
def affine(tmp_path_factory):
    """y = x @ w + 1 and the row sums, on float32 [N, 3] input."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [3, 2], [1, 0, 0, 1, 1, 1])
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "one"], ["y"]),
            helper.make_node("ReduceSum", ["x", "axes"], ["total"], keepdims=0),
        ],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2]),
            helper.make_tensor_value_info("total", TensorProto.FLOAT, [None]),
        ],
        initializer=[w, one, axes],
    )
    path = tmp_path_factory.mktemp("affine") / "m"
    example = np.array([[0.5, 1.0, 2.0]], dtype=np.float32)
    pack.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path, input_example=example)
    return pack.pyfunc.load_model(path)


BODIES = [
    b'{"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3], [0.5, 0, 1]]}}',
    b'{"dataframe_records": [{"a": 1, "b": 2, "c": 3}, {"a": 0.5, "b": 0, "c": 1}]}',
    b'{"instances": [[1, 2, 3], [0.5, 0, 1]]}',
    b'{"inputs": [[1, 2, 3], [0.5, 0, 1]]}',
]


@pytest.mark.parametrize("body", BODIES, ids=["split", "records", "instances", "inputs"])
def test_every_json_form_reaches_a_float32_tensor_model(affine, body):
    data, params = parse_json_request(body, affine.signature.inputs)
    result = affine.predict(data, params)

    np.testing.assert_allclose(result["y"], [[5, 6], [2.5, 2]])
    np.testing.assert_allclose(result["total"], [6, 1.5])
    assert orjson.loads(dumps_predictions(result)) == {"predictions": {"y": [[5, 6], [2.5, 2]], "total": [6, 1.5]}}


def test_tables_are_cast_to_named_tensor_dtypes():
    schema = Schema((TensorSpec("float32", (-1,), "x"), TensorSpec("int64", (-1,), "n")))
    data, _ = parse_json_request(b'{"dataframe_split": {"columns": ["x", "n"], "data": [[1, 2.0], [3, 4]]}}', schema)
    assert (data["x"].dtype, data["n"].dtype) == (np.float32, np.int64)


def test_wire_shapes_still_violate_the_signature(affine):
    data, _ = parse_json_request(b'{"inputs": [[1, 2]]}', affine.signature.inputs)
    with pytest.raises(SchemaError, match=r"Input 'input': expected shape \(-1, 3\), got \(1, 2\)"):
        affine.predict(data)
    data, _ = parse_json_request(b'{"inputs": [["a", "b", "c"]]}', affine.signature.inputs)
    with pytest.raises(SchemaError, match="expected dtype float32, got str"):
        affine.predict(data)
