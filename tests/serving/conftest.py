"""Real models saved once per session, and real ``pack serve`` processes on free ports."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from tests.serving.support import FEATURES, ServerProcess


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
        server.stop(signal.SIGKILL)


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
