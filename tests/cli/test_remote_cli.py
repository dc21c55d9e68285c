"""The console script against a real tracking server (``pack server``; ``mlflow server`` as a conformance
check): ``pack models|runs|experiments``, ``log-model``, ``predict``, ``serve`` and ``build-k8s`` with
``PACK_TRACKING_URI=http://...`` or ``--backend-store-uri http://...``."""

from __future__ import annotations

import json
import pickle
import uuid

import pytest

from devtools.cli import run_pack
from devtools.tracking_servers import MLFLOW
from pack.registry.default import process_default
from tests.serving.support import FEATURES, ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def remote(tracking_server, tmp_path, random_forest, classification_data, monkeypatch):
    """A working directory with a pickled forest and rows, and the server in ``PACK_TRACKING_URI``."""
    frame, _ = classification_data
    with open(tmp_path / "rf.pkl", "wb") as handle:
        pickle.dump(random_forest, handle)
    frame.head(8).to_csv(tmp_path / "rows.csv", index=False)
    monkeypatch.chdir(tmp_path)
    for key in ("PACK_REGISTRY_URI", "PACK_DEFAULT_ARTIFACT_ROOT", "PACK_USER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PACK_TRACKING_URI", tracking_server.url)
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / ".cache"))
    yield tracking_server
    process_default().reset()


def _ok(*args: str) -> str:
    result = run_pack(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_log_register_promote_predict_serve_and_build(remote, random_forest, classification_data, tmp_path):
    name, experiment = f"forest-{uuid.uuid4().hex[:8]}", f"exp-{uuid.uuid4().hex[:8]}"
    logged = _ok("log-model", "sklearn", "rf.pkl", "--register", name, "-e", experiment, "--input-example", "rows.csv")
    assert f"registered as {name} version 1" in logged
    run_id = logged.split("logged sklearn model to run ", 1)[1].split()[0]
    _ok("models", "transition", name, "1", "Production")
    _ok("models", "alias", name, "champion", "1")
    described = json.loads(_ok("models", "describe", name, "--json"))
    assert described["aliases"] == {"champion": 1}
    versions = json.loads(_ok("models", "versions", name, "--json"))["model_versions"]
    assert [(v["version"], v["current_stage"], v["run_id"]) for v in versions] == [(1, "Production", run_id)]
    assert name in _ok("models", "list", "--filter", f"name = '{name}'")
    runs = json.loads(_ok("runs", "list", "-e", experiment, "--json"))["runs"]
    assert [r["info"]["run_id"] for r in runs] == [run_id]
    assert "model/" in _ok("runs", "describe", run_id)
    assert experiment in _ok("experiments", "list")

    frame, _ = classification_data
    expected = random_forest.predict(frame.head(8)).tolist()
    predicted = json.loads(_ok("predict", "-m", f"models:/{name}@champion", "-i", "rows.csv"))
    assert predicted["predictions"] == expected

    built = _ok("build-k8s", "-m", f"models:/{name}/Production", "--image", "rf:1", "-o", "k8s")
    assert f"{name} 1" in built and "rf:1" in (tmp_path / "k8s" / "deployment.yaml").read_text()

    server = ServerProcess(
        [f"models:/{name}/Production"], tmp_path / "serve.log", env={"PACK_TRACKING_URI": remote.url}
    )
    try:
        server.wait_ready()
        answer = server.client.post("/invocations", json={"dataframe_split": frame.head(8)[FEATURES].to_dict("split")})
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == expected
    finally:
        server.stop()


def test_backend_store_uri_flag_and_history(remote, tmp_path, monkeypatch):
    monkeypatch.delenv("PACK_TRACKING_URI")
    name = f"flag-{uuid.uuid4().hex[:8]}"
    flag = ("--backend-store-uri", remote.url)
    _ok("log-model", "sklearn", "rf.pkl", "--output", "saved")
    assert f"registered {name} version 1" in _ok("models", "register", "saved", name, *flag)
    _ok("models", "tag", name, "team", "fraud", *flag)
    _ok("models", "transition", name, "1", "Staging", *flag)
    history = run_pack("models", "history", name, *flag)
    if remote.kind == MLFLOW:  # pack's history extension is pack server's: a one-line error
        assert history.returncode == 1 and "records no promotion history" in history.stderr
    else:
        assert history.returncode == 0 and "Staging" in history.stdout
    missing = run_pack("models", "describe", "no-such-model", *flag)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr
    _ok("models", "delete", name, "--yes", *flag)
    assert not (tmp_path / "pack.db").exists()


def test_an_unreachable_server_is_one_line(tmp_path):
    from devtools.tracking_servers import free_port

    result = run_pack(
        "models", "list", env={"PACK_TRACKING_URI": f"http://127.0.0.1:{free_port()}", "PACK_HTTP_MAX_RETRIES": "1"}
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the tracking server at http://127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1
