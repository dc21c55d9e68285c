"""The unmodified ``mlflow`` client (MLflow 3.17, its own virtualenv) against ``pack server``: every call of
the research file's call lists and the ``MlflowClient`` registry methods, on SQLite, on PostgreSQL, and with
the artifacts on S3 (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.registry.support import postgres_schema
from tests.server.support import TrackingServerProcess, run_client

pytestmark = [pytest.mark.interop, pytest.mark.slow]
WORKFLOW = (Path(__file__).parent / "mlflow_workflow.py").read_text()

# The minimum set of endpoints MLflow 3's Python client drives in the common workflow (the research file's
# list of 37), by the route's path under /api/2.0/mlflow/ (or the artifact proxy).
CLIENT_ENDPOINTS = {
    ("GET", "experiments/get-by-name"),
    ("POST", "experiments/create"),
    ("GET", "experiments/get"),
    ("POST", "experiments/search"),
    ("POST", "runs/create"),
    ("POST", "runs/update"),
    ("GET", "runs/get"),
    ("POST", "runs/search"),
    ("POST", "runs/log-batch"),
    ("POST", "runs/log-metric"),
    ("POST", "runs/log-parameter"),
    ("POST", "runs/set-tag"),
    ("POST", "runs/log-inputs"),
    ("POST", "runs/outputs"),
    ("GET", "metrics/get-history"),
    ("POST", "logged-models"),
    ("GET", "logged-models/{id}"),
    ("PATCH", "logged-models/{id}"),
    ("PATCH", "logged-models/{id}/tags"),
    ("POST", "logged-models/search"),
    ("POST", "registered-models/create"),
    ("GET", "registered-models/get"),
    ("GET", "registered-models/search"),
    ("POST", "registered-models/alias"),
    ("GET", "registered-models/alias"),
    ("POST", "registered-models/get-latest-versions"),
    ("POST", "model-versions/create"),
    ("GET", "model-versions/get"),
    ("GET", "model-versions/search"),
    ("PATCH", "model-versions/update"),
    ("POST", "model-versions/transition-stage"),
    ("GET", "model-versions/get-download-uri"),
    ("POST", "model-versions/set-tag"),
    ("PUT", "mlflow-artifacts"),
    ("GET", "mlflow-artifacts"),
    ("GET", "mlflow-artifacts (list)"),
    ("GET", "server-info"),
}


def _route(method: str, path: str) -> tuple[str, str]:
    if "/mlflow-artifacts/artifacts" in path:
        return method, "mlflow-artifacts" if path.split("/mlflow-artifacts/artifacts", 1)[
            1
        ] else "mlflow-artifacts (list)"
    rest = path.split("/mlflow/", 1)[1]
    if rest.startswith("logged-models/m-"):
        parts = rest.split("/")
        rest = "/".join(["logged-models", "{id}", *parts[2:]])
    return method, rest


def _check(out: dict, server: TrackingServerProcess) -> None:
    assert out["experiment_location"].startswith("mlflow-artifacts:/")
    run = out["run"]
    assert run["status"] == "FINISHED"
    assert run["params"] == {"C": "1.0", "solver": "lbfgs", "max_iter": "500"}
    assert run["metrics"] == {"acc": 0.97, "f1": 0.95, "loss": 0.2}
    assert run["tag_team"] == "fraud" and run["source_type"] == "LOCAL"
    assert run["datasets"] == ["iris"] and run["outputs"] == [out["model_id"]]
    assert out["history"] == [[s, 1.0 / (s + 1)] for s in range(5)]  # the logged model's copy added nothing
    assert out["artifacts"] == ["cfg", "notes.txt"] and out["artifacts_cfg"] == ["cfg/config.json"]
    assert len(out["search_runs"]) == 1 and out["client_search_runs"] == out["search_runs"]
    assert out["search_experiments"] == ["Default", "conformance-exp"]
    assert out["by_alias"] == "1" and out["latest"] == [["1", "Production"]]
    assert out["registered_models"] == ["conformance"] and out["versions"] == ["1"]
    assert out["download_uri"].startswith("mlflow-artifacts:/models/")  # the registry's own checksummed copy
    assert out["version"] == {"tags": {"validated": "yes"}, "description": "first", "status": "READY"}
    assert json.loads(out["model_versions_tag"]) == [{"name": "conformance", "version": "1"}]
    assert out["registered"]["tags"] == {"owner": "risk"} and out["registered"]["aliases"] == {"champion": "1"}
    assert out["client_run"] == ["FINISHED", 100]
    assert out["register_again"] == "2"
    assert out["runs_load"] == out["expected"] == out["models:/conformance/Production"]
    assert out["models:/conformance@champion"] == out["expected"]
    assert out["downloaded"] == 600
    assert out["errors"] == {
        "duplicate_model": "RESOURCE_ALREADY_EXISTS",
        "missing_run": "RESOURCE_DOES_NOT_EXIST",
        "bad_run_id": "INVALID_PARAMETER_VALUE",
        "changed_param": "INVALID_PARAMETER_VALUE",
        "foreign_source": "INVALID_PARAMETER_VALUE",
    }
    assert out["after_delete"] == ["1"] and out["models_left"] == []
    seen = {_route(m, p) for m, p, status in server.requests() if status < 400 and "/mlflow" in p}
    assert seen >= CLIENT_ENDPOINTS, sorted(CLIENT_ENDPOINTS - seen)
    assert "Traceback" not in server.output


def _run(tmp_path: Path, mlflow_python: Path, args: list[str], env: dict[str, str] | None = None) -> None:
    server = TrackingServerProcess(args, tmp_path / "server.log", env=env)
    try:
        out = run_client(mlflow_python, WORKFLOW, tmp_path, server.url, env=env)
        _check(out, server)
    finally:
        assert server.stop() == 0


def test_mlflow_client_against_pack_server_on_sqlite(tmp_path, mlflow_python):
    _run(
        tmp_path,
        mlflow_python,
        ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", str(tmp_path / "runs")],
    )
    assert (tmp_path / "runs" / "1").is_dir()


def test_mlflow_client_against_pack_server_on_postgresql(tmp_path, mlflow_python, postgres_uri):
    with postgres_schema(postgres_uri) as uri:
        _run(tmp_path, mlflow_python, ["--backend-store-uri", uri, "--default-artifact-root", str(tmp_path / "runs")])


def test_mlflow_client_against_pack_server_with_artifacts_on_s3(tmp_path, mlflow_python, s3_endpoint):
    import fsspec

    env = {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    bucket = f"pack-server-{tmp_path.name.lower().replace('_', '-')}"[:60]
    fs = fsspec.filesystem("s3", skip_instance_cache=True, endpoint_url=s3_endpoint, key="testing", secret="testing")
    fs.mkdir(bucket)
    args = ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", f"s3://{bucket}/root"]
    _run(tmp_path, mlflow_python, args, env=env)
    assert fs.ls(f"{bucket}/root/1")  # the experiment's runs and logged models are in the bucket
    assert not (tmp_path / "root").exists()
