"""The ONNX flavor: graphs from onnx.helper and skl2onnx, sessions, named inputs and outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pack.errors import FlavorError, InvalidInput, SchemaError
from pack.flavors.environment import read_requirements

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

import pack  # noqa: E402
import pack.pyfunc  # noqa: E402
from pack.flavors.onnx import FLAVOR  # noqa: E402
from pack.flavors.threads import threads_per_worker  # noqa: E402

WORKERS_ENV = "PACK_SERVE_WORKERS"
from tests.models_onnx import logistic_regression, pair  # noqa: E402
from tests.models_onnx import run as _run  # noqa: E402
from tests.models_onnx import two_in_two_out as _two_in_two_out  # noqa: E402


def _rows(n, width=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, width)).astype(np.float32)


def test_helper_graph_maps_dicts_to_named_outputs_in_a_fresh_process(tmp_path, fresh_predict):
    model = _two_in_two_out()
    saved = pack.save_model(model, tmp_path / "m", input_example=pair(2))

    assert saved.flavors["onnx"]["data"] == "model.onnx"
    assert saved.flavors["onnx"]["providers"] == ["CPUExecutionProvider"]
    assert saved.flavors["python_function"]["loader_module"] == "mlflow.onnx"
    assert saved.signature.inputs.names == ["a", "b"]
    assert saved.signature.outputs.names == ["sum", "scaled"]
    assert {r.split("==")[0] for r in read_requirements(tmp_path / "m")} >= {"onnx", "onnxruntime", "numpy"}
    data = pair(5, seed=2)
    (got,) = fresh_predict([(tmp_path / "m", data)])
    want = _run(model, data)
    for name in ("sum", "scaled"):
        np.testing.assert_array_equal(got[name], want[name])


def test_sklearn_graph_with_a_dataframe_and_selected_output(tmp_path, fresh_predict):
    estimator, graph, features = logistic_regression()
    pack.save_model(graph, tmp_path / "all", input_example=features[:3].astype(np.float32))
    pack.save_model(graph, tmp_path / "proba", output_names=["probabilities"])

    data = _rows(6, 4, seed=5)
    got_all, got_proba = fresh_predict([(tmp_path / "all", data), (tmp_path / "proba", data)])
    want = _run(graph, {graph.graph.input[0].name: data})
    np.testing.assert_array_equal(got_all["label"], want["label"])
    np.testing.assert_array_equal(got_all["label"], estimator.predict(data))
    np.testing.assert_allclose(got_proba, estimator.predict_proba(data), atol=1e-5)
    frame = pd.DataFrame(data.astype(np.float64), columns=list("wxyz"))
    by_frame = pack.pyfunc.load_model(tmp_path / "proba").predict(frame)
    np.testing.assert_array_equal(by_frame, want["probabilities"])


def test_a_table_feeds_a_multi_input_graph_by_column_name(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [None, 1])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 1])
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["y"], ["yf"], to=TensorProto.FLOAT),
            helper.make_node("Sub", ["x", "yf"], ["out"]),
        ],
        "columns",
        [x, y],
        [out],
    )
    pack.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m")
    frame = pd.DataFrame({"y": [1, 2, 3], "x": [0.5, 1.5, 2.5]})
    result = pack.pyfunc.load_model(tmp_path / "m").predict(frame)
    np.testing.assert_allclose(result["out"].ravel(), [-0.5, -0.5, -0.5])


def test_wrong_shapes_dtypes_and_inputs_are_schema_errors(tmp_path):
    pack.save_model(_two_in_two_out(), tmp_path / "m", input_example=pair(2))
    model = pack.pyfunc.load_model(tmp_path / "m")
    good = pair(2, seed=1)

    with pytest.raises(SchemaError, match=r"Input 'b': expected shape \(-1, 3\), got \(2, 4\)"):
        model.predict({"a": good["a"], "b": np.zeros((2, 4), dtype=np.int64)})
    with pytest.raises(SchemaError, match="Input 'a': expected dtype float32, got float64"):
        model.predict({"a": good["a"].astype(np.float64) + 0.1, "b": good["b"]})
    with pytest.raises(SchemaError, match="Input 'b': expected dtype int64, got float32"):
        model.predict({"a": good["a"], "b": good["a"]})
    with pytest.raises(SchemaError, match=r"missing inputs \['b'\]"):
        model.predict({"a": good["a"]})
    with pytest.raises(SchemaError, match=r"expects named tensors \['a', 'b'\]"):
        model.predict(_rows(2))


def test_invalid_graphs_are_refused_by_the_checker(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 1])
    graph = helper.make_graph([helper.make_node("Add", ["x", "missing"], ["out"])], "bad", [x], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    with pytest.raises(FlavorError, match="the ONNX model is invalid"):
        pack.save_model(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()
    with pytest.raises(InvalidInput, match="output_names must be outputs of the graph"):
        pack.save_model(_two_in_two_out(), tmp_path / "m", output_names=["nope"])


def test_session_threads_follow_the_worker_count_and_config(tmp_path, monkeypatch):
    pack.save_model(_two_in_two_out(), tmp_path / "m", onnx_session_options={"inter_op_num_threads": 1})

    def options(**config):
        session = pack.pyfunc.load_model(tmp_path / "m", model_config=config).predictor.session
        return session.get_session_options()

    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert options().intra_op_num_threads == threads_per_worker(1)
    assert options(workers=64).intra_op_num_threads == 1
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert options().intra_op_num_threads == threads_per_worker(2)
    assert options(intra_op_num_threads=3).intra_op_num_threads == 3
    with pytest.raises(InvalidInput, match="invalid onnxruntime session option"):
        options(execution_mode="sideways")
    with pytest.raises(InvalidInput, match="workers must be a positive integer, got 'many'"):
        options(workers="many")


def test_unavailable_providers_fall_back_to_cpu(tmp_path):
    pack.save_model(_two_in_two_out(), tmp_path / "m", providers=["NoSuchExecutionProvider", "CPUExecutionProvider"])
    session = pack.pyfunc.load_model(tmp_path / "m").predictor.session
    assert session.get_providers() == ["CPUExecutionProvider"]


def test_log_model_reads_onnx_files(tmp_path):
    onnx.save_model(_two_in_two_out(), tmp_path / "graph.onnx")
    assert isinstance(FLAVOR.read_native(tmp_path / "graph.onnx"), onnx.ModelProto)
    (tmp_path / "junk.onnx").write_bytes(b"\x00not protobuf")
    with pytest.raises(FlavorError, match=r"junk\.onnx"):
        FLAVOR.read_native(tmp_path / "junk.onnx")
