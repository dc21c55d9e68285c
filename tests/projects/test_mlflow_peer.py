"""The same project under `mlflow run` (MLflow's own virtualenv) and under `pack run`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.projects.conftest import pack_run

READ_RUNS = """\
import json, sys
from mlflow import MlflowClient
client = MlflowClient()
experiment = client.get_experiment_by_name(sys.argv[1])
runs = client.search_runs([experiment.experiment_id])
print(json.dumps([{"params": r.data.params, "tags": r.data.tags, "status": r.info.status} for r in runs]))
"""


@pytest.mark.interop
def test_mlflow_run_and_pack_run_log_the_same_params(seed_project, store, mlflow_python: Path, tmp_path):
    mlflow_env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
        "PATH": f"{mlflow_python.parent}:{os.environ['PATH']}",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    for key in [k for k in mlflow_env if k.startswith("PACK_") and k != "PACK_CI_CACHE"]:
        del mlflow_env[key]
    args = [".", "-P", "epochs=3", "--env-manager", "local", "--experiment-name", "same-project"]
    peer = subprocess.run(
        [str(mlflow_python), "-m", "mlflow", "run", *args],
        cwd=seed_project,
        env=mlflow_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert peer.returncode == 0, peer.stderr
    assert "epoch 3/3" in peer.stdout
    read = subprocess.run(
        [str(mlflow_python), "-c", READ_RUNS, "same-project"],
        env=mlflow_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    (theirs,) = json.loads(read.stdout)
    ours_done = pack_run(*args, cwd=seed_project, store=store)
    assert ours_done.returncode == 0, ours_done.stderr
    client = store.client()
    (ours,) = client.search_runs([client.get_experiment_by_name("same-project").experiment_id])
    assert (
        ours.data.params == theirs["params"] == {"data_path": "data.csv", "epochs": "3", "classifier": "SGDClassifier"}
    )
    assert ours.info.status == theirs["status"] == "FINISHED"
    for tag in ("mlflow.source.type", "mlflow.project.entryPoint", "mlflow.source.git.commit", "mlflow.source.name"):
        assert ours.data.tags[tag] == theirs["tags"][tag], tag


MLFLOW_SCRIPT = """\
import mlflow

with mlflow.start_run() as run:
    mlflow.log_param("from_mlflow", "yes")
    mlflow.log_metric("score", 0.5)
print("MLFLOW_RUN=" + run.info.run_id)
"""


@pytest.mark.interop
def test_an_unmodified_mlflow_script_attaches_to_the_project_run(tmp_path, store, mlflow_python: Path):
    """``mlflow.start_run()`` in a project's script records into the run ``pack run`` created, when the
    tracking URI is a ``pack server`` (MLflow's client speaks only its REST API to a remote store)."""
    pytest.importorskip("pack.server", reason="needs `pack server` (MLflow's REST API), which is not built yet")
    pytest.importorskip("pack.store.rest", reason="`pack run` against a server needs pack's REST client store")
    from devtools.builders import free_port
    from devtools.cli import pack_command

    project = tmp_path / "p"
    project.mkdir()
    # ``--env-manager local`` puts pack's own interpreter first as ``python``: MLflow's is named by path
    (project / "MLproject").write_text(f"name: p\nentry_points: {{main: {{command: '{mlflow_python} script.py'}}}}\n")
    (project / "script.py").write_text(MLFLOW_SCRIPT)
    port = free_port()
    server = subprocess.Popen(
        [*pack_command(), "server", "--backend-store-uri", store.uri, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **store.env},
    )
    try:
        uri = f"http://127.0.0.1:{port}"
        import time
        import urllib.request

        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "pack server did not start"
                time.sleep(0.2)
        env = {"PACK_TRACKING_URI": uri}
        done = pack_run(str(project), "--env-manager", "local", cwd=tmp_path, store=store, env=env)
        assert done.returncode == 0, done.stderr
        (run,) = store.runs()
        assert f"MLFLOW_RUN={run.info.run_id}" in done.stdout
        assert run.data.params == {"from_mlflow": "yes"} and run.data.metrics == {"score": 0.5}
        assert run.info.status == "FINISHED"
    finally:
        server.terminate()
        server.wait(60)
