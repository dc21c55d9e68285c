"""The tracking server as an attacker or a careless client meets it: every bad request is a JSON 4xx
naming the problem, never a traceback; bodies, time and paths are bounded; hosts and origins checked."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.server.support import TrackingServerProcess

API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hardening")
    process = TrackingServerProcess(
        [
            "--backend-store-uri",
            f"sqlite:///{root}/pack.db",
            "--default-artifact-root",
            str(root / "runs"),
            "--max-body-size",
            "0.2",
            "--max-artifact-size",
            "0.0001",
            "--body-timeout",
            "1",
            "--upload-idle-timeout",
            "1",
            "--cors-allowed-origins",
            "https://ui.example.com",
        ],
        root / "server.log",
    )
    process.root = root
    yield process
    assert process.stop() == 0
    assert "Traceback" not in process.output


def _error(response: httpx.Response, status: int, code: str, words: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code and words in body["message"], body
    assert response.headers["x-request-id"] == body["request_id"]


def _run(server) -> dict:
    experiment = server.client.post(f"{API}/experiments/create", json={"name": f"e{time.monotonic_ns()}"}).json()
    return server.client.post(f"{API}/runs/create", json=experiment).json()["run"]["info"]


def test_bad_requests_are_json_4xx(server):
    client = server.client
    run = _run(server)
    _error(client.get("/nothing/here"), 404, "ENDPOINT_NOT_FOUND")
    _error(client.delete(f"{API}/runs/get"), 405, "BAD_REQUEST")
    _error(client.post(f"{API}/runs/log-metric", content=b"{not json"), 400, "INVALID_PARAMETER_VALUE", "JSON")
    _error(client.post(f"{API}/runs/log-metric", json=[1, 2]), 400, "INVALID_PARAMETER_VALUE", "object")
    _error(
        client.post(f"{API}/runs/log-metric", json={"run_id": run["run_id"], "key": "k"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "value",
    )
    _error(
        client.post(f"{API}/runs/log-metric", json={"run_id": run["run_id"], "key": "k", "value": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "number",
    )
    _error(client.get(f"{API}/runs/get", params={"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(client.get(f"{API}/runs/get"), 400, "INVALID_PARAMETER_VALUE", "run_id")
    _error(
        client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "max_results": 10**9}),
        400,
        "INVALID_PARAMETER_VALUE",
        "max_results",
    )
    _error(
        client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "page_token": "garbage"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "page token",
    )
    _error(
        client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": "metrics.a >"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "filter",
    )
    metrics = [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]
    _error(
        client.post(f"{API}/runs/log-batch", json={"run_id": run["run_id"], "metrics": metrics}),
        400,
        "INVALID_PARAMETER_VALUE",
        "at most 1000 metrics",
    )
    _error(client.post(f"{API}/registered-models/create", json={"name": "a/b"}), 400, "INVALID_PARAMETER_VALUE")
    client.post(f"{API}/registered-models/create", json={"name": "dup"})
    _error(client.post(f"{API}/registered-models/create", json={"name": "dup"}), 400, "RESOURCE_ALREADY_EXISTS")
    _error(
        client.post(f"{API}/model-versions/create", json={"name": "dup", "source": "/etc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "outside this server's artifact storage",
    )
    _error(
        client.post(f"{API}/model-versions/create", json={"name": "dup", "source": "file:///etc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "outside",
    )
    # an experiment a client points at the server's own files cannot be used to read them
    custom = client.post(f"{API}/experiments/create", json={"name": "sneaky", "artifact_location": "/etc"}).json()
    sneaky = client.post(f"{API}/runs/create", json=custom).json()["run"]["info"]["run_id"]
    _error(
        client.post(
            f"{API}/model-versions/create", json={"name": "dup", "source": f"runs:/{sneaky}/", "run_id": sneaky}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "outside",
    )
    _error(client.get(f"{API}/artifacts/list", params={"run_id": sneaky}), 400, "INVALID_PARAMETER_VALUE", "outside")
    _error(client.get("/get-artifact", params={"run_id": sneaky, "path": "x"}), 400, "INVALID_PARAMETER_VALUE")


def test_artifact_paths_cannot_leave_the_destination(server):
    client = server.client
    (server.root / "secret.txt").write_text("TOP-SECRET-CONTENT")
    for path in ("..%2Fsecret.txt", "1/..%2F..%2Fsecret.txt", "%2Fetc%2Fpasswd", "a%5C..%5Csecret.txt"):
        response = client.get(f"/api/2.0/mlflow-artifacts/artifacts/{path}")
        assert response.status_code in (400, 404), (path, response.text)
        assert "TOP-SECRET-CONTENT" not in response.text
        put = client.put(f"/api/2.0/mlflow-artifacts/artifacts/{path}", content=b"x")
        assert put.status_code in (400, 404), (path, put.text)
    _error(client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "../"}), 400, "INVALID_PARAMETER_VALUE")
    assert (server.root / "secret.txt").read_text() == "TOP-SECRET-CONTENT"
    assert not list(server.root.glob("**/*.tmp-*"))


def test_bodies_are_bounded_in_size_and_time(server):
    client = server.client
    run = _run(server)
    big = {"run_id": run["run_id"], "key": "k", "value": "x" * 300_000}
    _error(client.post(f"{API}/runs/set-tag", json=big), 413, "INVALID_PARAMETER_VALUE", "limit")
    files = run["artifact_uri"].removeprefix("mlflow-artifacts:/")
    _error(
        client.put(f"/api/2.0/mlflow-artifacts/artifacts/{files}/big.bin", content=b"x" * 200_000),
        413,
        "INVALID_PARAMETER_VALUE",
        "limit",
    )

    def chunked():  # no Content-Length: the limit is enforced while streaming
        for _ in range(4):
            yield b"x" * 65536

    _error(
        client.put(f"/api/2.0/mlflow-artifacts/artifacts/{files}/big.bin", content=chunked()),
        413,
        "INVALID_PARAMETER_VALUE",
        "limit",
    )
    assert client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": files}).json() == {}  # nothing left

    host, port = server.url.removeprefix("http://").split(":")
    for target, length in ((f"{API}/runs/set-tag", 100), (f"/api/2.0/mlflow-artifacts/artifacts/{files}/slow", 100)):
        method = "POST" if "mlflow/" in target else "PUT"
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n{{".encode()
            )
            started = time.monotonic()
            answer = b""
            while chunk := sock.recv(65536):  # the server closes the connection after answering
                answer += chunk
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 408"), answer
        assert "the request body did not arrive in time" in answer
        assert time.monotonic() - started < 20
    assert client.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": files}).json() == {}


def test_hosts_and_origins(server):
    client = server.client
    _error(client.get("/health", headers={"Host": "attacker.example"}), 403, "PERMISSION_DENIED", "Host")
    assert client.get("/health", headers={"Host": "localhost:5000"}).status_code == 200
    # a browser page elsewhere cannot write (CSRF), even with a simple request
    _error(
        client.post(
            f"{API}/experiments/create", content=b'{"name": "csrf"}', headers={"Origin": "https://evil.example"}
        ),
        403,
        "PERMISSION_DENIED",
        "Cross-origin",
    )
    allowed = client.post(
        f"{API}/experiments/create", json={"name": "from-ui"}, headers={"Origin": "https://ui.example.com"}
    )
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://ui.example.com"
    preflight = client.options(
        f"{API}/experiments/create",
        headers={"Origin": "https://ui.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    refused = client.options(
        f"{API}/experiments/create",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert client.get(f"{API}/experiments/search", headers={"Origin": "https://evil.example"}).status_code == 200
    # Fetch Metadata: the browser's word wins over Host (a proxy may rewrite it), with or without Origin
    for site in ("cross-site", "same-site"):
        _error(
            client.post(f"{API}/experiments/create", json={"name": site}, headers={"Sec-Fetch-Site": site}),
            403,
            "PERMISSION_DENIED",
            "Cross-origin",
        )
    behind_proxy = {"Sec-Fetch-Site": "same-origin", "Origin": "https://pack.example.org"}
    assert client.post(f"{API}/experiments/create", json={"name": "proxied"}, headers=behind_proxy).status_code == 200
    assert client.post(f"{API}/experiments/create", json={"name": "no-browser"}).status_code == 200


def test_the_web_ui_calls_are_answered_compressed(server):
    client = server.client
    for i in range(30):
        client.post(f"{API}/experiments/create", json={"name": f"gzip-{i}-" + "x" * 40})
    ui = client.get("/ajax-api/2.0/mlflow/experiments/search", headers={"Accept-Encoding": "gzip"})
    assert ui.headers["content-encoding"] == "gzip" and "accept-encoding" in ui.headers["vary"]
    assert int(ui.headers["content-length"]) < len(ui.content) and len(ui.json()["experiments"]) >= 30
    plain = client.get(f"{API}/experiments/search", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and plain.json() == ui.json()
    refused = client.get("/ajax-api/2.0/mlflow/experiments/search", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
