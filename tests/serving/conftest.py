"""Real models saved once per session, and real ``pack serve`` processes on free ports."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from tests.serving.support import FEATURES, ServerProcess, TensorCase


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Start ``pack serve`` with the given arguments; every server is stopped after the test."""
    servers: list[ServerProcess] = []

    def start(*args: str, ready: bool = True, env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(list(args), tmp_path / f"server-{len(servers)}.log", env)
        servers.append(server)
        if ready:
            server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


# ---------------------------------------------------------------------------------------------
# models


@pytest.fixture(scope="session")
def rf_data() -> tuple[Any, pd.DataFrame]:
    """The benchmark's RandomForest (50 trees, depth 8, 10 features) and its training frame."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    features, labels = make_classification(n_samples=500, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=FEATURES)
    model = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(frame, labels)
    return model, frame


@pytest.fixture(scope="session")
def rf_model(tmp_path_factory: pytest.TempPathFactory, rf_data: tuple[Any, pd.DataFrame]) -> Path:
    model, frame = rf_data
    path = tmp_path_factory.mktemp("models") / "rf"
    pack.save_model(model, path, input_example=frame.head(3))
    return path


def _save_custom(path: Path, model: Any, **kwargs: Any) -> Path:
    pack.pyfunc.save_model(path, python_model=model, **kwargs)
    return path


@pytest.fixture(scope="session")
def echo_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Returns ``id * 2`` per row after ``delay`` seconds; raises on ``x == 666``."""

    class Echo(pack.pyfunc.PythonModel):
        delay = 0.02

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            time.sleep(self.delay)
            if (model_input["x"] == 666).any():
                raise ValueError("x must not be 666")
            return model_input["id"].to_numpy() * 2

    example = pd.DataFrame({"id": [1, 2], "x": [0.5, 1.5]})
    return _save_custom(tmp_path_factory.mktemp("models") / "echo", Echo(), input_example=example)


@pytest.fixture(scope="session")
def sum_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No signature, no example, and an output that is not row-aligned (one number per call)."""

    class Total(pack.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            time.sleep(0.02)
            return {"total": float(np.asarray(model_input, dtype=float).sum())}

    return _save_custom(tmp_path_factory.mktemp("models") / "total", Total())


@pytest.fixture(scope="session")
def tensor_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """float32 [-1, 4] in, float32 [-1, 2] out: twice the first two columns."""

    class Halves(pack.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return (np.asarray(model_input)[:, :2] * 2).astype(np.float32)

    example = np.arange(8, dtype=np.float32).reshape(2, 4)
    return _save_custom(tmp_path_factory.mktemp("models") / "halves", Halves(), input_example=example)


@pytest.fixture(scope="session")
def params_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Columns x (double) and tag (string); params scale (double); answers a two-column frame."""

    class Scaled(pack.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            scale = (params or {}).get("scale", 1.0)
            return pd.DataFrame({"y": model_input["x"] * scale, "tag": model_input["tag"].str.upper()})

    example = (pd.DataFrame({"x": [1.0, 2.0], "tag": ["a", "b"]}), {"scale": 1.0})
    return _save_custom(tmp_path_factory.mktemp("models") / "scaled", Scaled(), input_example=example)


@pytest.fixture(scope="session")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sleeps ``x`` seconds per predict, after writing the ``started`` marker (see ``marker_of``)."""

    class Slow(pack.pyfunc.PythonModel):
        def __init__(self, marker: str) -> None:
            self.marker = marker

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            seconds = float(model_input["x"].max())
            if seconds > 0:
                Path(self.marker).write_text("started")
                time.sleep(seconds)
            return model_input["x"].to_numpy() + 1

    root = tmp_path_factory.mktemp("slow")
    example = pd.DataFrame({"x": [0.0]})
    return _save_custom(root / "slow", Slow(str(root / "started")), input_example=example)


@pytest.fixture(scope="session")
def rf_server(tmp_path_factory: pytest.TempPathFactory, rf_model: Path) -> Iterator[ServerProcess]:
    """One server with only the RandomForest (so plain /invocations works)."""
    server = ServerProcess([str(rf_model)], tmp_path_factory.mktemp("logs") / "rf.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def multi_server(
    tmp_path_factory: pytest.TempPathFactory,
    rf_model: Path,
    echo_model: Path,
    sum_model: Path,
    tensor_model: Path,
    params_model: Path,
) -> Iterator[ServerProcess]:
    """One server with several models (two versions of the RandomForest)."""
    args = [
        f"rf:1={rf_model}",
        f"rf:2={rf_model}",
        str(echo_model),
        str(sum_model),
        str(tensor_model),
        str(params_model),
    ]
    server = ServerProcess(args, tmp_path_factory.mktemp("logs") / "multi.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# deep-learning and ONNX models (support.DL_CASES), one server each


def _fp32(name: str, shape: list[int]) -> dict[str, Any]:
    return {"name": name, "datatype": "FP32", "shape": shape}


def _torch_cases(root: Path, request: pytest.FixtureRequest) -> list[TensorCase]:
    mlp = request.getfixturevalue("torch_mlp")
    cnn = request.getfixturevalue("torch_cnn")
    towers = request.getfixturevalue("torch_towers")
    from tests.models_torch import native_predict, rows

    images = np.random.default_rng(20).normal(size=(5, 1, 8, 8)).astype(np.float32)
    pairs = {"left": rows(4, 3, seed=21), "right": rows(4, 5, seed=22)}
    pack.save_model(mlp, root / "torch-mlp", input_example=rows(3))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit", DeprecationWarning)
        pack.save_model(mlp, root / "torch-script", input_example=rows(3), serialization_format="torchscript")
    pack.save_model(cnn, root / "torch-cnn", input_example=images[:2])
    pack.save_model(towers, root / "torch-towers", input_example={"left": rows(2, 3), "right": rows(2, 5)})
    single = ([_fp32("input", [-1, 4])], [_fp32("predictions", [-1, 2])])
    data = rows(6, seed=23)
    return [
        TensorCase("torch-mlp", "pytorch", root / "torch-mlp", data, native_predict(mlp, data), *single),
        TensorCase("torch-script", "pytorch", root / "torch-script", data, native_predict(mlp, data), *single),
        TensorCase(
            "torch-cnn",
            "pytorch",
            root / "torch-cnn",
            images,
            native_predict(cnn, images),
            [_fp32("input", [-1, 1, 8, 8])],
            [_fp32("predictions", [-1, 3])],
        ),
        TensorCase(
            "torch-towers",
            "pytorch",
            root / "torch-towers",
            pairs,
            native_predict(towers, pairs),
            [_fp32("left", [-1, 3]), _fp32("right", [-1, 5])],
            [_fp32("sum", [-1, 2]), _fp32("diff", [-1, 2])],
        ),
    ]


def _tensorflow_cases(root: Path, request: pytest.FixtureRequest) -> list[TensorCase]:
    model = request.getfixturevalue("keras_mlp")
    import tensorflow as tf

    from tests.models_keras import ARRAY_COPY_MESSAGE, TwoOutputs
    from tests.models_torch import rows

    module = TwoOutputs()
    data = rows(6, seed=24)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ARRAY_COPY_MESSAGE, DeprecationWarning)
        pack.save_model(model, root / "keras-mlp", input_example=rows(3))
        pack.save_model(module, root / "tf-module", input_example=rows(3))
        keras_output = model.predict_on_batch(data)
    module_output = {name: value.numpy() for name, value in module(tf.constant(data)).items()}
    return [
        TensorCase(
            "keras-mlp",
            "keras",
            root / "keras-mlp",
            data,
            keras_output,
            [_fp32("input", [-1, 4])],
            [_fp32("predictions", [-1, 2])],
        ),
        TensorCase(
            "tf-module",
            "tensorflow",
            root / "tf-module",
            data,
            module_output,
            [_fp32("input", [-1, 4])],
            [_fp32("scores", [-1, 2]), _fp32("total", [-1])],
        ),
    ]


def _onnx_cases(root: Path, request: pytest.FixtureRequest) -> list[TensorCase]:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from tests.models_onnx import logistic_regression, pair, run, two_in_two_out

    _, graph, features = logistic_regression()
    helper_graph = two_in_two_out()
    pack.save_model(graph, root / "onnx-sklearn", input_example=features[:3].astype(np.float32))
    pack.save_model(helper_graph, root / "onnx-helper", input_example=pair(2))
    data = features[10:17].astype(np.float32)
    pairs = pair(5, seed=25)
    return [
        TensorCase(
            "onnx-sklearn",
            "onnx",
            root / "onnx-sklearn",
            data,
            run(graph, {graph.graph.input[0].name: data}),
            [_fp32("input", [-1, 4])],
            [{"name": "label", "datatype": "INT64", "shape": [-1]}, _fp32("probabilities", [-1, 2])],
        ),
        TensorCase(
            "onnx-helper",
            "onnx",
            root / "onnx-helper",
            pairs,
            run(helper_graph, pairs),
            [_fp32("a", [-1, 3]), {"name": "b", "datatype": "INT64", "shape": [-1, 3]}],
            [_fp32("sum", [-1, 3]), _fp32("scaled", [-1, 3])],
        ),
    ]


@pytest.fixture(scope="session")
def dl_served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[TensorCase, ServerProcess]]]:
    """Every case whose framework is installed, saved under its name, with its own ``pack serve``.

    Each group's servers start as soon as its models are saved, so they load while the next group is
    built; tests call ``wait_ready`` before the first request.
    """
    root, logs = tmp_path_factory.mktemp("dl-models"), tmp_path_factory.mktemp("dl-logs")
    served: dict[str, tuple[TensorCase, ServerProcess]] = {}
    try:
        for build in (_torch_cases, _tensorflow_cases, _onnx_cases):
            try:
                cases = build(root, request)
            except pytest.skip.Exception:  # that framework is not installed: its cases skip
                continue
            for case in cases:
                env = {"TF_CPP_MIN_LOG_LEVEL": "3"}
                served[case.name] = (case, ServerProcess([str(case.path)], logs / f"{case.name}.log", env))
        yield served
    finally:
        for _, server in served.values():
            server.stop()
