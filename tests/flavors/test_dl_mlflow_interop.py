"""Deep-learning models cross between MLflow and pack both ways and predict the same.

MLflow runs in its own virtualenv with the same torch, tensorflow-cpu, keras and onnx versions
(``devtools.mlflow_peer``); pack never imports it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
onnx = pytest.importorskip("onnx")

import pack  # noqa: E402
import pack.pyfunc  # noqa: E402
from devtools.mlflow_peer import run_mlflow  # noqa: E402

pytestmark = [
    pytest.mark.interop,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::pack.errors.UnsafeFormatWarning"),  # the pickle formats, on purpose
]

# Builds one small model per MLflow format (same weights as pack's side: fixed seeds and constants).
MODELS = """
import numpy as np, torch, keras, tensorflow as tf
from onnx import TensorProto, helper

def torch_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)).eval()

def keras_mlp():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="features")
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(inputs)))

class Scale(tf.Module):
    def __init__(self):
        self.w = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2) / 10)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def __call__(self, x):
        return tf.matmul(x, self.w)

def onnx_graph():
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 2], (np.arange(8) / 10).tolist())
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], initializer=[w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

x = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
"""

MLFLOW_SAVES = (
    MODELS
    + """
import mlflow.keras, mlflow.onnx, mlflow.pyfunc, mlflow.pytorch, mlflow.tensorflow
REQS = ["mlflow"]  # skips MLflow's requirement inference (a subprocess per model)
mlflow.pytorch.save_model(torch_mlp(), "pt2", input_example=x[:3], pip_requirements=REQS)
mlflow.pytorch.save_model(
    torch_mlp(), "pickle", input_example=x[:3], serialization_format="pickle", pip_requirements=REQS
)
import os
os.makedirs("keras")  # mlflow.keras 3.17 writes the example before creating the directory
mlflow.keras.save_model(keras_mlp(), "keras", input_example=x[:3], pip_requirements=REQS)
mlflow.tensorflow.save_model(keras_mlp(), "tf-keras", input_example=x[:3], pip_requirements=REQS)
mlflow.tensorflow.save_model(Scale(), "tf-module", input_example=x[:3], pip_requirements=REQS)
mlflow.onnx.save_model(onnx_graph(), "onnx", input_example=x[:3], pip_requirements=REQS)
for name in ("pt2", "pickle", "keras", "tf-keras", "tf-module", "onnx"):
    out = mlflow.pyfunc.load_model(name).predict(x)
    np.savez(name + ".npz", **(out if isinstance(out, dict) else {"output": np.asarray(out)}))
"""
)

MLFLOW_LOADS = """
import sys, numpy as np, mlflow.pyfunc
x = np.load("x.npy")
for name in sys.argv[1:]:
    out = mlflow.pyfunc.load_model(name).predict(x)
    np.savez(name + "-mlflow.npz", **(out if isinstance(out, dict) else {"output": np.asarray(out)}))
"""


def _stored(path):
    with np.load(path) as stored:
        arrays = dict(stored)
    return arrays["output"] if list(arrays) == ["output"] else arrays


def _assert_same(got, want):
    if isinstance(want, dict):
        assert isinstance(got, dict)
        assert sorted(got) == sorted(want)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)


def test_mlflow_saved_models_load_and_predict_the_same_in_pack(mlflow_dl_python, tmp_path):
    run_mlflow(MLFLOW_SAVES, tmp_path, python=mlflow_dl_python)
    namespace: dict[str, object] = {}
    exec(MODELS, namespace)  # the same inputs as MLflow's side
    x = namespace["x"]

    for name in ("pt2", "pickle", "keras", "tf-keras", "tf-module", "onnx"):
        model = pack.pyfunc.load_model(tmp_path / name)
        _assert_same(model.predict(x), _stored(tmp_path / f"{name}.npz"))


def test_pack_saved_models_load_and_predict_the_same_in_mlflow(mlflow_dl_python, tmp_path):
    namespace: dict[str, object] = {}
    exec(MODELS, namespace)
    x = namespace["x"]
    np.save(tmp_path / "x.npy", x)
    mlp, kmlp = namespace["torch_mlp"](), namespace["keras_mlp"]()
    pack.save_model(mlp, tmp_path / "pt2", input_example=x[:3])
    pack.save_model(mlp, tmp_path / "torchscript", input_example=x[:3], serialization_format="torchscript")
    pack.save_model(mlp, tmp_path / "pickle", input_example=x[:3], serialization_format="pickle")
    pack.save_model(kmlp, tmp_path / "keras", input_example=x[:3])
    pack.save_model(kmlp, tmp_path / "tf-keras", flavor="tensorflow", input_example=x[:3])
    pack.save_model(namespace["Scale"](), tmp_path / "tf-module", input_example=x[:3])
    pack.save_model(namespace["onnx_graph"](), tmp_path / "onnx", input_example=x[:3])
    names = ["pt2", "torchscript", "pickle", "keras", "tf-keras", "tf-module", "onnx"]

    run_mlflow(MLFLOW_LOADS, tmp_path, python=mlflow_dl_python, args=names)
    for name in names:
        mine = pack.pyfunc.load_model(tmp_path / name).predict(x)
        _assert_same(mine, _stored(tmp_path / f"{name}-mlflow.npz"))
