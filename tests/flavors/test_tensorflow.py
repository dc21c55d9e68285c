"""The keras and tensorflow flavors (few tests on purpose: TensorFlow is slow to import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pack.errors import FlavorError, SchemaError
from pack.flavors.environment import read_requirements
from pack.flavors.mlmodel import MLModel

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import pack  # noqa: E402
import pack.pyfunc  # noqa: E402
from pack.flavors.keras import FLAVOR as KERAS  # noqa: E402

# Keras 3.15 with numpy 2.4 converts tensors through a deprecated __array__ path (not pack's code).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def _rows(n, width=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, width)).astype(np.float32)


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,), name="features")
    outputs = keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    data = _rows(32)
    model.fit(data, data[:, :2] - data[:, 2:], epochs=2, verbose=0)
    return model


class TwoOutputs(tf.Module):
    def __init__(self) -> None:
        self.weights = tf.Variable(np.arange(8, dtype=np.float32).reshape(4, 2) / 10)

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def __call__(self, x):
        return {"scores": tf.matmul(x, self.weights), "total": tf.reduce_sum(x, axis=1)}


def test_keras_and_tensorflow_models_predict_the_same_in_a_fresh_process(mlp, tmp_path, fresh_predict):
    example = _rows(3)
    saved = pack.save_model(mlp, tmp_path / "keras", input_example=example)
    pack.save_model(mlp, tmp_path / "tf-keras", flavor="tensorflow", input_example=example)
    module = TwoOutputs()
    pack.save_model(module, tmp_path / "module", input_example=example)
    mlp.export(str(tmp_path / "exported"), verbose=False)
    pack.save_model(str(tmp_path / "exported"), tmp_path / "savedmodel", flavor="tensorflow", input_example=example)

    assert saved.flavors["keras"]["save_exported_model"] is False
    assert saved.flavors["python_function"]["loader_module"] == "mlflow.keras"
    assert (tmp_path / "keras" / "data" / "model.keras").is_file()
    tf_keras = MLModel.load(tmp_path / "tf-keras").flavors["tensorflow"]
    assert (tf_keras["model_type"], tf_keras["data"]) == ("keras", "data")
    tf_module = MLModel.load(tmp_path / "module")
    assert tf_module.flavors["tensorflow"] == {
        "saved_model_dir": "tf2model",
        "model_type": "tf2-module",
        "code": None,
    }
    assert tf_module.signature.outputs.names == ["scores", "total"]
    pins = {r.split("==")[0].replace("_", "-") for r in read_requirements(tmp_path / "keras")}
    assert {"keras", "numpy"} <= pins
    assert pins & {"tensorflow", "tensorflow-cpu"}

    data = _rows(6, seed=1)
    names = ("keras", "tf-keras", "module", "savedmodel")
    got = dict(zip(names, fresh_predict([(tmp_path / name, data) for name in names]), strict=True))
    want = mlp.predict_on_batch(data)
    for name in ("keras", "tf-keras", "savedmodel"):
        np.testing.assert_allclose(got[name], want, rtol=1e-5, atol=1e-6)
    native = module(tf.constant(data))
    np.testing.assert_allclose(got["module"]["scores"], native["scores"].numpy(), rtol=1e-6)
    np.testing.assert_allclose(got["module"]["total"], native["total"].numpy(), rtol=1e-6)


def test_multi_input_keras_takes_dicts_and_checks_the_schema(tmp_path):
    keras.utils.set_random_seed(1)
    left, right = keras.Input((3,), name="left"), keras.Input((2,), name="right")
    joined = keras.layers.Concatenate()([left, right])
    model = keras.Model([left, right], {"score": keras.layers.Dense(1, name="score")(joined)})
    example = {"left": _rows(2, 3), "right": _rows(2, 2)}
    saved = pack.save_model(model, tmp_path / "m", input_example=example)
    loaded = pack.pyfunc.load_model(tmp_path / "m")

    assert saved.signature.inputs.names == ["left", "right"]
    data = {"left": _rows(5, 3, seed=2), "right": _rows(5, 2, seed=3)}
    result = loaded.predict(data)
    np.testing.assert_allclose(result["score"], model.predict_on_batch(data)["score"], rtol=1e-6)
    with pytest.raises(SchemaError, match=r"Input 'right': expected shape \(-1, 2\), got \(5, 3\)"):
        loaded.predict({"left": data["left"], "right": _rows(5, 3)})
    with pytest.raises(SchemaError, match="Input 'left': expected dtype float32, got float64"):
        loaded.predict({"left": data["left"].astype(np.float64) + 0.1, "right": data["right"]})


def test_log_model_packages_a_savedmodel_directory_and_a_keras_file(mlp, tmp_path):
    mlp.export(str(tmp_path / "exported"), verbose=False)
    mlp.save(str(tmp_path / "model.keras"))
    (tmp_path / "example.json").write_text('{"inputs": [[0.1, 0.2, 0.3, 0.4]]}')
    pack_cli = str(Path(sys.executable).with_name("pack"))
    done = subprocess.run(
        [pack_cli, "log-model", "tensorflow", str(tmp_path / "exported"), "-o", str(tmp_path / "m"),
         "--input-example", str(tmp_path / "example.json")],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "saved tensorflow model" in done.stdout
    data = _rows(4, seed=5)
    np.testing.assert_allclose(
        pack.pyfunc.load_model(tmp_path / "m").predict(data), mlp.predict_on_batch(data), rtol=1e-5
    )
    assert isinstance(KERAS.read_native(tmp_path / "model.keras"), keras.Model)
    with pytest.raises(FlavorError, match=r"not a SavedModel directory or a \.keras file"):
        pack.flavors.tensorflow.FLAVOR.read_native(tmp_path / "example.json")
