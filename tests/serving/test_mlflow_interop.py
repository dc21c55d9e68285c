"""MLflow's own client, and requests written as MLflow's docs show, against pack serve and MLflow.

Both servers serve the same model directory; every success answer must be byte-for-byte the same
JSON. MLflow runs from its own virtualenv (``devtools/mlflow_peer.py``, created once and cached).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from devtools.mlflow_peer import mlflow_python, run_mlflow
from tests.serving.support import ServerProcess, load_quietly

pytestmark = [pytest.mark.interop, pytest.mark.slow]

CLIENT_SCRIPT = r"""
import io, json, sys
import pandas as pd
import requests
from mlflow.pyfunc.scoring_server.client import ScoringServerClient

with open("inputs.json") as handle:
    pack_url, mlflow_url, rows_json = json.load(handle)
frame = pd.read_json(io.StringIO(rows_json), orient="split")
out = {}
host, port = pack_url.removeprefix("http://").split(":")
client = ScoringServerClient(host, int(port))
client.wait_server_ready(timeout=60)
out["client"] = client.invoke(frame).get_predictions(predictions_format="ndarray").tolist()

# As the MLflow docs show (deployment/deploy-model-locally): JSON bodies and CSV.
bodies = {
    "split": ({"dataframe_split": frame.to_dict(orient="split")}, None),
    "records": ({"dataframe_records": frame.to_dict(orient="records")}, None),
    "instances": ({"instances": frame.to_dict(orient="records")}, None),
    "inputs": ({"inputs": frame.to_dict(orient="list")}, None),
    "csv": (None, frame.to_csv(index=False)),
}
for name, (document, csv) in bodies.items():
    for server, url in (("pack", pack_url), ("mlflow", mlflow_url)):
        if document is not None:
            response = requests.post(url + "/invocations", json=document)
        else:
            response = requests.post(url + "/invocations", data=csv, headers={"Content-Type": "text/csv"})
        out[f"{name}/{server}"] = [response.status_code, response.headers["content-type"], response.json()]
print(json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(rf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    python = mlflow_python()
    port = _free_port()
    log = tmp_path_factory.mktemp("mlflow") / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"  # MLflow execs its uvicorn
    with open(log, "w") as handle:
        command = [str(python), "-m", "mlflow", "models", "serve", "-m", str(rf_model), "-p", str(port)]
        process = subprocess.Popen(
            [*command, "--env-manager", "local"], stdout=handle, stderr=subprocess.STDOUT, env=env
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"mlflow models serve was not ready:\n{log.read_text()}")
    yield url
    process.terminate()
    process.wait(30)


def test_mlflow_clients_see_no_difference(
    rf_server: ServerProcess,
    mlflow_server: str,
    rf_model: Path,
    rf_data: tuple[Any, pd.DataFrame],
    tmp_path: Path,
) -> None:
    _, frame = rf_data
    rows = frame.iloc[200:230].reset_index(drop=True)
    expected = load_quietly(rf_model).predict(rows).tolist()
    split = rows.to_json(orient="split", double_precision=15)
    (tmp_path / "inputs.json").write_text(json.dumps([rf_server.url, mlflow_server, split]))
    done = run_mlflow(CLIENT_SCRIPT, tmp_path)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["client"] == expected
    for name in ("split", "records", "instances", "inputs", "csv"):
        ours, theirs = results[f"{name}/pack"], results[f"{name}/mlflow"]
        assert ours[0] == theirs[0] == 200, name
        assert ours[1] == theirs[1] == "application/json", name
        assert ours[2] == theirs[2], name
        assert len(ours[2]["predictions"]) == len(rows)
