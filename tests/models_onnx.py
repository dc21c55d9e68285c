"""Small real ONNX graphs for the flavor and serving tests: one from onnx.helper, one from skl2onnx."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper


def two_in_two_out() -> onnx.ModelProto:
    """sum = a + float(b), scaled = a * 2 (a: float32 [N, 3], b: int64 [N, 3]; outputs float32 [N, 3])."""
    inputs = [
        helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 3]),
        helper.make_tensor_value_info("b", TensorProto.INT64, [None, 3]),
    ]
    outputs = [
        helper.make_tensor_value_info("sum", TensorProto.FLOAT, [None, 3]),
        helper.make_tensor_value_info("scaled", TensorProto.FLOAT, [None, 3]),
    ]
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    nodes = [
        helper.make_node("Cast", ["b"], ["b_float"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["a", "b_float"], ["sum"]),
        helper.make_node("Mul", ["a", "two"], ["scaled"]),
    ]
    graph = helper.make_graph(nodes, "two_in_two_out", inputs, outputs, initializer=[two])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def pair(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs of ``two_in_two_out``: float32 ``a`` and int64 ``b``, ``n`` rows each."""
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=(n, 3)).astype(np.float32), "b": rng.integers(-5, 5, size=(n, 3))}


def logistic_regression() -> tuple[Any, onnx.ModelProto, np.ndarray]:
    """A scikit-learn LogisticRegression on 4 features, its skl2onnx graph (outputs ``label``, ``probabilities``)
    and its training features (float64)."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    features = np.random.default_rng(4).normal(size=(80, 4))
    labels = (features[:, 0] + features[:, 1] > 0).astype(int)
    estimator = LogisticRegression().fit(features, labels)
    graph = to_onnx(estimator, features[:1].astype(np.float32), options={"zipmap": False})
    return estimator, graph, features


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """onnxruntime's own outputs, by name."""
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))
