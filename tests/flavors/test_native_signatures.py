"""Signatures without being asked: from an estimator's feature names and from an ONNX graph's declared tensors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from onnx import TensorProto, helper
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import pack
import pack.pyfunc
from pack.errors import SchemaError
from pack.flavors.schema import ColSpec, DataType, TensorSpec
from tests.serving.support import ServerProcess

FRAME = pd.DataFrame(np.random.default_rng(1).random((60, 4)), columns=["a", "b", "c", "d"])
LABELS = np.arange(60) % 2


def test_an_estimator_fit_on_a_table_declares_its_columns(tmp_path):
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(FRAME, LABELS)
    saved = pack.save_model(model, tmp_path / "m")  # no input example
    assert [(s.name, s.type) for s in saved.signature.inputs] == [(n, DataType.double) for n in "abcd"]
    loaded = pack.pyfunc.load_model(tmp_path / "m")
    assert loaded.predict(FRAME.head(3)).tolist() == model.predict(FRAME.head(3)).tolist()
    with pytest.raises(SchemaError, match=r"Model is missing inputs \['d'\]"):
        loaded.predict(FRAME[["a", "b", "c"]])  # scikit-learn would fail with a ValueError (a 500 when served)


def test_an_estimator_fit_on_an_array_declares_a_tensor(tmp_path):
    model = LogisticRegression().fit(FRAME.to_numpy(), LABELS)
    saved = pack.save_model(model, tmp_path / "m")
    assert saved.signature.inputs.specs == (TensorSpec(dtype="float64", shape=(-1, 4)),)
    with pytest.raises(SchemaError, match=r"expected shape \(-1, 4\), got \(2, 3\)"):
        pack.pyfunc.load_model(tmp_path / "m").predict(np.zeros((2, 3)))


def test_encoded_columns_keep_the_type_the_encoder_saw(tmp_path):
    frame = pd.DataFrame({"city": ["Oslo", "Rome", "Oslo", "Lima"] * 5, "age": list(range(20))})
    pipeline = Pipeline(
        [
            ("columns", ColumnTransformer([("city", OneHotEncoder(), ["city"])], remainder="passthrough")),
            ("model", LogisticRegression()),
        ]
    ).fit(frame, np.arange(20) % 2)
    saved = pack.save_model(pipeline, tmp_path / "m")
    assert saved.signature.inputs.specs == (ColSpec(DataType.string, "city"), ColSpec(DataType.double, "age"))
    assert (
        pack.pyfunc.load_model(tmp_path / "m").predict(frame.head(4)).tolist()
        == pipeline.predict(frame.head(4)).tolist()
    )


def _two_input_graph():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [None, 1])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 3])
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["y"], ["yf"], to=TensorProto.FLOAT),
            helper.make_node("Add", ["x", "yf"], ["out"]),
        ],
        "declared",
        [x, y],
        [out],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_an_onnx_graph_declares_its_tensors(tmp_path):
    saved = pack.save_model(_two_input_graph(), tmp_path / "m")
    assert saved.signature.inputs.specs == (
        TensorSpec(dtype="float32", shape=(-1, 3), name="x"),
        TensorSpec(dtype="int64", shape=(-1, 1), name="y"),
    )
    assert saved.signature.outputs.specs == (TensorSpec(dtype="float32", shape=(-1, 3), name="out"),)
    model = pack.pyfunc.load_model(tmp_path / "m")
    result = model.predict({"x": np.ones((2, 3), dtype=np.float32), "y": np.array([[1], [2]])})
    assert result["out"].tolist() == [[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
    with pytest.raises(SchemaError, match=r"Input 'x': expected shape \(-1, 3\), got \(2, 4\)"):
        model.predict({"x": np.ones((2, 4), dtype=np.float32), "y": np.array([[1], [2]])})


def test_a_served_model_without_an_example_answers_a_wrong_request_with_400(tmp_path):
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(FRAME, LABELS)
    pack.save_model(model, tmp_path / "rf")
    server = ServerProcess([str(tmp_path / "rf")], tmp_path / "serve.log")
    try:
        server.wait_ready()
        three = server.client.post(
            "/invocations", json={"dataframe_split": {"columns": ["a", "b", "c"], "data": [[0.1, 0.2, 0.3]]}}
        )
        assert three.status_code == 400, three.text
        assert "'d'" in three.json()["message"]
        metadata = server.client.get("/v2/models/rf").json()
        assert [entry["name"] for entry in metadata["inputs"]] == ["a", "b", "c", "d"]
    finally:
        server.stop()
