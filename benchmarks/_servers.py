"""The servers the serving benchmark compares, each from its own virtualenv, and the bodies each takes.

* pack: ``pack serve`` from a virtualenv with what a serving image holds (pack + scikit-learn + onnx,
  no torch), answering MLflow's ``/invocations`` (``dataframe_split``) and V2 (one ``[rows, 10]``
  FP64 tensor, in JSON and with the binary tensor extension: a JSON header, then the raw float64s);
  optionally with ``--accelerate`` or ``-w 2``, or from this interpreter (where torch and TensorFlow
  are installed).
* MLServer with its scikit-learn runtime and adaptive batching (``max_batch_size`` 64,
  ``max_batch_time`` 2 ms), in one process or with one inference process; V2, the same tensor.
* BentoML with ``batchable=True`` (``max_batch_size`` 64); ``{"input": rows}``. Access logs are off for
  every server (pack's and MLServer's default; BentoML's is turned off).
* MLflow's ``mlflow models serve --env-manager local``; ``dataframe_split``.

The peers load the same forest trained on the bare array (identical trees: the training data and seed
are the same), saved with joblib, so they predict on arrays without scikit-learn's feature-name
warning.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from benchmarks._load import Server, Target, free_port

FEATURES = [f"f{i}" for i in range(10)]
ROWS = {"1": 1, "100": 100, "10k": 10_000}
BENTO_SERVICE = """
import os

import bentoml
import joblib
import numpy as np


@bentoml.service(workers=1)
class RF:
    def __init__(self) -> None:
        self.model = joblib.load(os.path.join(os.path.dirname(__file__), "model.joblib"))

    @bentoml.api(batchable=True, max_batch_size=64, max_latency_ms=60000)
    def predict(self, input: np.ndarray) -> np.ndarray:
        return self.model.predict(input)
"""


def train(work: Path) -> tuple[Path, Any, Any]:
    """The benchmark forest saved by pack (fit on a DataFrame), its frame, and its array twin for peers."""
    import joblib
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import pack

    features, labels = make_classification(n_samples=2000, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=FEATURES)
    model = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(frame, labels)
    path = work / "rf"
    pack.save_model(model, path, input_example=frame.head(5))
    twin = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(features, labels)
    for peer in ("mlserver", "bentoml"):
        (work / peer).mkdir()
        joblib.dump(twin, work / peer / "model.joblib")
    return path, model, frame


def write_bodies(frame: Any, work: Path) -> dict[tuple[str, str], Path]:
    """Body files by (protocol, rows): ``invocations``, ``v2``, ``v2-binary`` and ``bentoml`` for 1, 100 and
    10k rows."""
    import orjson

    bodies = {}
    for label, count in ROWS.items():
        rows = frame.sample(count, replace=True, random_state=2).to_numpy() if count > 1 else frame.iloc[:1].to_numpy()
        forms = {
            "invocations": {"dataframe_split": {"columns": FEATURES, "data": rows.tolist()}},
            "v2": {"inputs": [{"name": "input", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel()}]},
            "bentoml": {"input": rows.tolist()},
        }
        for protocol, document in forms.items():
            path = work / f"{protocol}-{label}.json"
            path.write_bytes(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY))
            bodies[(protocol, label)] = path
        raw = rows.astype("<f8").tobytes()
        tensor = {"name": "input", "shape": list(rows.shape), "datatype": "FP64"}
        header = {"inputs": [{**tensor, "parameters": {"binary_data_size": len(raw)}}]}
        path = work / f"v2-binary-{label}.bin"
        path.write_bytes(orjson.dumps(header) + raw)
        bodies[("v2-binary", label)] = path
    return bodies


class Started:
    """A started server and the targets it answers, by protocol."""

    def __init__(self, server: Server, urls: dict[str, str]) -> None:
        self.server = server
        self.urls = urls

    def target(self, protocol: str, bodies: dict[tuple[str, str], Path], rows: str) -> Target:
        body_protocol = "invocations" if protocol == "mlflow" else protocol
        body = bodies[(body_protocol, rows)]
        if protocol != "v2-binary":
            return Target(self.urls[protocol], body)
        length = json.JSONDecoder().raw_decode(body.read_bytes().decode("latin-1"))[1]  # the JSON header's end
        header = f"Inference-Header-Content-Length: {length}"
        return Target(self.urls[protocol], body, "application/octet-stream", header)


def start_pack(
    model: Path, work: Path, bodies: dict[tuple[str, str], Path], *flags: str, python: Path | None = None
) -> Started:
    """``pack serve`` (from the serving virtualenv unless ``python`` is given)."""
    if python is None:
        from devtools.venvs import pack_serving_python

        python = pack_serving_python()
    port = free_port()
    command = [str(python), "-m", "pack.cli", "serve", str(model), "-p", str(port), *flags]
    base = f"http://127.0.0.1:{port}"
    urls = {"invocations": f"{base}/invocations", "v2": f"{base}/v2/models/rf/infer"}
    urls["v2-binary"] = urls["v2"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    tag = "-".join(flag.strip("-") for flag in flags) or "plain"
    ready = Target(urls["invocations"], bodies[("invocations", "1")])
    return Started(Server(f"pack {' '.join(flags)}".strip(), command, env, ready, work / f"pack-{tag}.log"), urls)


def start_mlserver(work: Path, bodies: dict[tuple[str, str], Path], parallel_workers: int) -> Started:
    """MLServer with adaptive batching; ``parallel_workers`` 0 (one process) or 1 (an inference process)."""
    from devtools.peers import clean_env, mlserver_python

    python = mlserver_python()
    folder = work / "mlserver"
    port, grpc, metrics = free_port(), free_port(), free_port()
    settings = {"http_port": port, "grpc_port": grpc, "metrics_port": metrics, "parallel_workers": parallel_workers}
    (folder / "settings.json").write_text(json.dumps(settings))
    model = {
        "name": "rf",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "1"},
        "max_batch_size": 64,
        "max_batch_time": 0.002,
    }
    (folder / "model-settings.json").write_text(json.dumps(model))
    urls = {"v2": f"http://127.0.0.1:{port}/v2/models/rf/infer"}
    ready = Target(urls["v2"], bodies[("v2", "1")])
    command = [str(python.parent / "mlserver"), "start", str(folder)]
    name = f"MLServer, {'one process' if parallel_workers == 0 else 'inference process'}"
    log = work / f"mlserver-{parallel_workers}.log"
    return Started(Server(name, command, clean_env(python), ready, log, cwd=folder), urls)


def start_bentoml(work: Path, bodies: dict[tuple[str, str], Path]) -> Started:
    """``bentoml serve`` of a batchable service around the same forest."""
    from devtools.peers import bentoml_python, clean_env

    python = bentoml_python()
    folder = work / "bentoml"
    (folder / "service.py").write_text(BENTO_SERVICE)
    port = free_port()
    urls = {"bentoml": f"http://127.0.0.1:{port}/predict"}
    env = clean_env(python)
    env["BENTOML_HOME"] = str(work / "bentoml-home")
    env["BENTOML_DO_NOT_TRACK"] = "true"
    env["BENTOML_CONFIG_OPTIONS"] = "api_server.logging.access.enabled=false"  # as pack and MLServer: no access log
    command = [str(python.parent / "bentoml"), "serve", "service:RF", "--port", str(port)]
    ready = Target(urls["bentoml"], bodies[("bentoml", "1")])
    return Started(Server("BentoML", command, env, ready, work / "bentoml.log", cwd=folder), urls)


def start_mlflow(model: Path, work: Path, bodies: dict[tuple[str, str], Path]) -> Started:
    """``mlflow models serve --env-manager local`` of the same model directory."""
    from devtools.mlflow_peer import mlflow_python
    from devtools.peers import clean_env

    python = mlflow_python()
    port = free_port()
    env = clean_env(python)
    env["GIT_PYTHON_REFRESH"] = "quiet"
    command = [str(python.parent / "mlflow"), "models", "serve", "-m", str(model), "-p", str(port)]
    urls = {"mlflow": f"http://127.0.0.1:{port}/invocations"}
    ready = Target(urls["mlflow"], bodies[("invocations", "1")])
    return Started(Server("MLflow", [*command, "--env-manager", "local"], env, ready, work / "mlflow.log"), urls)


def this_python() -> Path:
    """The running interpreter (where torch and TensorFlow are installed, as with ``pack[all]``)."""
    return Path(sys.executable)


__all__ = [
    "FEATURES",
    "ROWS",
    "Started",
    "start_bentoml",
    "start_mlflow",
    "start_mlserver",
    "start_pack",
    "this_python",
    "train",
    "write_bodies",
]
