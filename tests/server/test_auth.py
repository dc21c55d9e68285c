"""``pack server --auth``: users with roles (HTTP basic), API tokens (bearer), each role against each kind
of write, the ``users``/``tokens`` commands, and MLflow's client with its credential variables."""

from __future__ import annotations

import subprocess
import sys
import uuid

import httpx
import pytest

from tests.server.support import TrackingServerProcess, run_client

API = "/api/2.0/mlflow"


def pack(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from pack.cli.main import main; main()", *args],
        input=input_text,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    store = ["--backend-store-uri", f"sqlite:///{root}/pack.db"]
    for name, role in (("reader", "reader"), ("editor", "editor"), ("admin", "admin")):
        done = pack("server", *store, "users", "add", name, "--role", role, "--password", f"{name}-pw")
        assert done.returncode == 0, done.stderr
        assert f"added user {name} ({role})" in done.stdout
    token = pack("server", *store, "tokens", "create", "--user", "editor", "--name", "ci")
    assert token.returncode == 0, token.stderr
    server = TrackingServerProcess(
        [*store, "--default-artifact-root", str(root / "runs"), "--auth"], root / "server.log"
    )
    yield server, store, token.stdout.strip()
    assert server.stop() == 0


def _client(server: TrackingServerProcess, who: str | None, token: str | None = None) -> httpx.Client:
    auth = (who, f"{who}-pw") if who else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, auth=auth, headers=headers, timeout=60)


def _setup(admin: httpx.Client) -> dict[str, str]:
    """A run, a registered READY version: what the writes below act on."""
    experiment = admin.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4().hex}"}).json()["experiment_id"]
    run = admin.post(f"{API}/runs/create", json={"experiment_id": experiment}).json()["run"]["info"]
    files = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    mlmodel = b"flavors:\n  python_function:\n    loader_module: x\n"
    assert admin.put(f"/api/2.0/mlflow-artifacts/artifacts/{files}/model/MLmodel", content=mlmodel).status_code == 200
    name = f"m-{uuid.uuid4().hex[:12]}"
    admin.post(f"{API}/registered-models/create", json={"name": name})
    created = admin.post(
        f"{API}/model-versions/create",
        json={"name": name, "source": f"runs:/{run['run_id']}/model", "run_id": run["run_id"]},
    )
    assert created.status_code == 200, created.text
    return {"experiment": experiment, "run": run["run_id"], "files": files, "model": name}


WRITES = {
    # kind of write -> (role needed, request)
    "log a metric": (
        "editor",
        lambda c, s: c.post(
            f"{API}/runs/log-metric", json={"run_id": s["run"], "key": "m", "value": 1, "timestamp": 1}
        ),
    ),
    "create a run": ("editor", lambda c, s: c.post(f"{API}/runs/create", json={"experiment_id": s["experiment"]})),
    "upload an artifact": (
        "editor",
        lambda c, s: c.put(f"/api/2.0/mlflow-artifacts/artifacts/{s['files']}/x.txt", content=b"x"),
    ),
    "register a version": (
        "editor",
        lambda c, s: c.post(
            f"{API}/model-versions/create",
            json={"name": s["model"], "source": f"runs:/{s['run']}/model", "run_id": s["run"]},
        ),
    ),
    "tag a version": (
        "editor",
        lambda c, s: c.post(
            f"{API}/model-versions/set-tag", json={"name": s["model"], "version": "1", "key": "k", "value": "v"}
        ),
    ),
    "move a stage": (
        "admin",
        lambda c, s: c.post(
            f"{API}/model-versions/transition-stage", json={"name": s["model"], "version": "1", "stage": "Production"}
        ),
    ),
    "set an alias": (
        "admin",
        lambda c, s: c.post(
            f"{API}/registered-models/alias", json={"name": s["model"], "alias": "champion", "version": "1"}
        ),
    ),
    "delete a run": ("admin", lambda c, s: c.post(f"{API}/runs/delete", json={"run_id": s["run"]})),
    "delete an artifact": ("admin", lambda c, s: c.delete(f"/api/2.0/mlflow-artifacts/artifacts/{s['files']}/x.txt")),
}
RANK = {"reader": 1, "editor": 2, "admin": 3}


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize("who", ["anonymous", "wrong-password", "reader", "editor", "admin"])
def test_each_role_against_each_write(secured, who, write):
    server, _, _ = secured
    with _client(server, "admin") as admin:
        subjects = _setup(admin)
    needed, request = WRITES[write]
    if who == "anonymous":
        client, expected = httpx.Client(base_url=server.url, timeout=60), 401
    elif who == "wrong-password":
        client, expected = httpx.Client(base_url=server.url, auth=("editor", "nope"), timeout=60), 401
    else:
        client, expected = _client(server, who), 200 if RANK[who] >= RANK[needed] else 403
    with client:
        response = request(client, subjects)
        assert response.status_code == expected, response.text
        if expected != 200:
            body = response.json()
            assert body["error_code"] == ("UNAUTHENTICATED" if expected == 401 else "PERMISSION_DENIED")
            assert set(body) == {"error_code", "message", "request_id"}
        if expected == 401:
            assert response.headers["www-authenticate"] == 'Basic realm="pack"'
        # reading is every role's right, and nobody's without credentials
        read = client.get(f"{API}/runs/get", params={"run_id": subjects["run"]})
        assert read.status_code == (401 if who in ("anonymous", "wrong-password") else 200)


def test_tokens_and_user_management(secured):
    server, store, token = secured
    assert token.startswith("pack_")
    with _client(server, None, token) as client:
        assert client.post(f"{API}/experiments/create", json={"name": "by-token"}).status_code == 200
        assert client.post(f"{API}/experiments/delete", json={"experiment_id": "1"}).status_code == 403
    listed = pack("server", *store, "tokens", "list", "--json")
    assert '"user": "editor"' in listed.stdout and token not in listed.stdout
    token_id = listed.stdout.split('"id": ')[1].split(",")[0]
    assert pack("server", *store, "tokens", "revoke", token_id).returncode == 0
    with _client(server, None, token) as client:
        assert client.get(f"{API}/experiments/search").status_code == 401

    assert pack("server", *store, "users", "add", "carol", "--password", "c-pw").returncode == 0
    with httpx.Client(base_url=server.url, auth=("carol", "c-pw"), timeout=60) as carol:
        assert carol.post(f"{API}/experiments/create", json={"name": "carol"}).status_code == 403
        assert pack("server", *store, "users", "set-role", "carol", "editor").returncode == 0
        assert carol.post(f"{API}/experiments/create", json={"name": "carol"}).status_code == 200  # at once
        assert pack("server", *store, "users", "set-password", "carol", "--password", "new").returncode == 0
        assert carol.get(f"{API}/experiments/search").status_code == 401  # the old password no longer works
    assert pack("server", *store, "users", "remove", "carol").returncode == 0
    with httpx.Client(base_url=server.url, auth=("carol", "new"), timeout=60) as carol:
        assert carol.get(f"{API}/experiments/search").status_code == 401

    again = pack("server", *store, "users", "add", "admin", "--password", "x")
    assert again.returncode == 2 and again.stderr.startswith("error: user 'admin' already exists")
    bad_role = pack("server", *store, "users", "set-role", "admin", "owner")
    assert bad_role.returncode == 2


def test_the_current_user_and_role(secured):
    server, store, _ = secured
    for who in ("reader", "editor", "admin"):
        with _client(server, who) as client:
            current = client.get("/ajax-api/2.0/mlflow/users/current")
            assert current.json()["user"] == {"username": who, "role": who, "is_admin": who == "admin"}
    token = pack("server", *store, "tokens", "create", "--user", "reader").stdout.strip()
    with _client(server, None, token) as client:
        assert client.get(f"{API}/users/current").json()["user"]["username"] == "reader"
    assert server.client.get(f"{API}/users/current").status_code == 401


def test_probes_and_server_info_need_no_credentials(secured):
    server, _, _ = secured
    assert server.client.get("/health").text == "OK"
    assert server.client.get("/api/3.0/mlflow/server-info").json()["multipart_uploads_enabled"] is False


@pytest.mark.interop
def test_mlflow_client_with_its_credential_variables(secured, mlflow_python, tmp_path):
    server, store, _ = secured
    token = pack("server", *store, "tokens", "create", "--user", "editor").stdout.strip()
    script = (
        "import json, sys, mlflow\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "mlflow.set_experiment(sys.argv[2])\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_metric('acc', 0.9)\n"
        "print(json.dumps(mlflow.get_run(run.info.run_id).data.metrics))\n"
    )
    basic = {"MLFLOW_TRACKING_USERNAME": "editor", "MLFLOW_TRACKING_PASSWORD": "editor-pw"}
    assert run_client(mlflow_python, script, tmp_path, server.url, "with-basic", env=basic) == {"acc": 0.9}
    bearer = {"MLFLOW_TRACKING_TOKEN": token}
    assert run_client(mlflow_python, script, tmp_path, server.url, "with-token", env=bearer) == {"acc": 0.9}


def test_current_user_and_promotion_history_for_the_web_ui(secured):
    server, store, _ = secured
    token = pack("server", *store, "tokens", "create", "--user", "editor").stdout.strip()  # the fixture's is revoked
    with _client(server, "admin") as admin, _client(server, "reader") as reader:
        setup = _setup(admin)
        name = setup["model"]
        assert reader.get(f"{API}/pack/users/current").json() == {"username": "reader", "role": "reader", "auth": True}
        with _client(server, None, token) as bearer:
            assert bearer.get("/ajax-api/2.0/mlflow/pack/users/current").json()["role"] == "editor"
        with _client(server, None) as nobody:
            assert nobody.get(f"{API}/pack/users/current").status_code == 401
        admin.post(f"{API}/model-versions/transition-stage", json={"name": name, "version": "1", "stage": "Staging"})
        admin.post(f"{API}/registered-models/alias", json={"name": name, "alias": "champion", "version": "1"})
        admin.post(f"{API}/model-versions/transition-stage", json={"name": name, "version": "1", "stage": "Production"})
        events = reader.get(f"{API}/pack/registered-models/history", params={"name": name}).json()["events"]
        assert [(e["kind"], e.get("alias"), e.get("from"), e["to"], e["user"]) for e in events] == [
            ("stage", None, "Staging", "Production", "admin"),
            ("alias", "champion", None, "1", "admin"),
            ("stage", None, "None", "Staging", "admin"),
        ]
        assert all(e["version"] == "1" and e["timestamp"] > 0 for e in events)
        page = reader.get(f"{API}/pack/registered-models/history", params={"name": name, "max_results": 1}).json()
        assert len(page["events"]) == 1 and page["next_page_token"]
        assert reader.get(f"{API}/pack/registered-models/history", params={"name": name, "version": "2"}).json() == {}
        missing = reader.get(f"{API}/pack/registered-models/history", params={"name": "nope"})
        assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
