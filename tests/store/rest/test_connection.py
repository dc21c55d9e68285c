"""``RestConnection`` against a real, misbehaving HTTP server in a subprocess: what is retried and what is
not, backoff and ``Retry-After``, timeouts, credentials, and how error answers become ``pack.errors``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.tracking_servers import free_port
from pack.errors import AlreadyExists, InvalidInput, NotFound, RegistryError
from pack.registry.services import http_options
from pack.registry.settings import RegistrySettings
from pack.store.rest import HttpOptions, MissingEndpoint, ProxiedArtifactStore, RestConnection

SCRIPT = Path(__file__).with_name("scripted_server.py")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SCRIPT), str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()


class Sleeps(list[float]):
    """Records the backoff sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def connect(server: str, sleeps: Sleeps) -> Iterator:
    opened: list[RestConnection] = []

    def make(base: str = server, **options) -> RestConnection:
        connection = RestConnection(base, HttpOptions(**{"max_retries": 3, **options}), sleep=sleeps)
        opened.append(connection)
        return connection

    yield make
    for connection in opened:
        connection.close()


def _count(connection: RestConnection, path: str) -> int:
    return int(connection.get(f"/count{path}")["count"])


def _unique(request: pytest.FixtureRequest) -> str:
    return request.node.name.replace("[", "-").replace("]", "")


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_calls_are_retried_with_backoff(connect, sleeps, status, request):
    connection = connect()
    path = f"/fail/2/{status}/{_unique(request)}"
    assert connection.get(path) == {"attempt": 3}
    assert len(sleeps) == 2 and 0 < sleeps[0] < sleeps[1]  # exponential, with jitter
    assert connection.post(path.replace("/fail/", "/fail/") + "-post", {"k": "v"}, idempotent=True) == {"attempt": 3}


def test_retry_after_is_honoured(connect, sleeps, request):
    assert connect().get(f"/fail/1/503/7/{_unique(request)}") == {"attempt": 2}
    assert sleeps == [7.0]


def test_non_idempotent_calls_are_not_repeated(connect, sleeps, request):
    connection = connect()
    path = f"/fail/1/503/{_unique(request)}"
    with pytest.raises(RegistryError, match="503"):
        connection.post(path, {"key": "loss", "value": 1.0})
    assert _count(connection, path) == 1 and sleeps == []


def test_retries_give_up(connect, sleeps, request):
    connection = connect(max_retries=2)
    path = f"/fail/9/503/{_unique(request)}"
    with pytest.raises(RegistryError, match="failed"):
        connection.get(path)
    assert _count(connection, path) == 3 and len(sleeps) == 2


def test_an_unreachable_server_is_retried_for_every_call(connect, sleeps):
    connection = connect(f"http://127.0.0.1:{free_port()}", max_retries=2)
    with pytest.raises(RegistryError, match="cannot reach the tracking server"):
        connection.post("/api/2.0/mlflow/runs/create", {"experiment_id": "0"})  # nothing was sent: safe
    assert len(sleeps) == 2


def test_a_dropped_connection_is_retried_only_when_idempotent(connect, sleeps, request):
    connection = connect()
    path = f"/drop/1/{_unique(request)}"
    assert connection.get(path) == {"attempt": 2}
    with pytest.raises(RegistryError):
        connection.post(f"{path}-post", {"k": 1})
    assert _count(connection, f"{path}-post") == 1


def test_requests_time_out(connect, sleeps):
    connection = connect(timeout=0.3, max_retries=1)
    with pytest.raises(RegistryError, match="ReadTimeout"):
        connection.post("/slow/2", {})
    assert sleeps == []  # not idempotent: not repeated


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/error/404/RESOURCE_DOES_NOT_EXIST", NotFound, "server says RESOURCE_DOES_NOT_EXIST"),
        ("/error/400/RESOURCE_ALREADY_EXISTS", AlreadyExists, "server says"),
        ("/error/400/INVALID_PARAMETER_VALUE", InvalidInput, "server says"),
        ("/error/400/SOMETHING_ELSE", InvalidInput, r"server says SOMETHING_ELSE \(400 SOMETHING_ELSE\)"),
        ("/error/404/-", MissingEndpoint, "no such endpoint"),
        ("/error/404/ENDPOINT_NOT_FOUND", MissingEndpoint, "no such endpoint"),
        ("/error/401/UNAUTHENTICATED", RegistryError, "401 UNAUTHENTICATED.*PACK_TRACKING_TOKEN"),
        ("/error/403/PERMISSION_DENIED", RegistryError, "403 PERMISSION_DENIED"),
        ("/error/500/INTERNAL_ERROR", RegistryError, r"the tracking server failed \(500 INTERNAL_ERROR\)"),
    ],
)
def test_error_answers_become_pack_errors(connect, path, error, message):
    with pytest.raises(error, match=message):
        connect().get(path)


def test_wire_conventions(connect):
    connection = connect()
    echoed = connection.get("/echo", {"run_ids": ["a", "b"], "flag": True, "absent": None, "n": 3})
    assert echoed["query"] == {"run_ids": ["a", "b"], "flag": ["true"], "n": ["3"]}
    assert echoed["headers"]["user-agent"].startswith("pack/")
    posted = connection.post("/echo", {"name": "x", "description": None})
    assert (posted["method"], posted["body"]) == ("POST", '{"name":"x"}')
    assert posted["headers"]["content-type"] == "application/json"


def test_uploads_stream_with_a_length(connect, tmp_path):
    connection = connect()
    data = tmp_path / "blob.bin"
    data.write_bytes(b"x" * (3 << 20))

    def body():
        with open(data, "rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    connection.put_stream("/echo", body, data.stat().st_size, "application/octet-stream")
    received = connection.get("/last")
    assert (received["method"], received["length"]) == ("PUT", 3 << 20)
    assert received["headers"]["content-length"] == str(3 << 20) and "transfer-encoding" not in received["headers"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PACK_TRACKING_TOKEN": "pack-token"}, "Bearer pack-token"),
        ({"MLFLOW_TRACKING_TOKEN": "mlflow-token"}, "Bearer mlflow-token"),
        ({"PACK_TRACKING_TOKEN": "pack-token", "MLFLOW_TRACKING_TOKEN": "mlflow-token"}, "Bearer pack-token"),
        ({"MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw"}, "Basic YW5uOnB3"),
        (
            {"PACK_TRACKING_USERNAME": "ann", "PACK_TRACKING_PASSWORD": "pw", "PACK_TRACKING_TOKEN": "t"},
            "Basic YW5uOnB3",
        ),
        ({"PACK_TRACKING_USERNAME": "ann"}, None),  # a user without a password sends nothing
        ({}, None),
    ],
)
def test_credentials_from_the_environment(server, monkeypatch, env, expected):
    for key in ("TOKEN", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"PACK_TRACKING_{key}", raising=False)
        monkeypatch.delenv(f"MLFLOW_TRACKING_{key}", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = RegistrySettings()
    assert "pack-token" not in repr(settings) and "pw" not in repr(settings.tracking_password)
    connection = RestConnection(server, http_options(settings))
    try:
        assert connection.get("/echo")["headers"].get("authorization") == expected
    finally:
        connection.close()


def test_a_hostile_listing_cannot_write_outside_the_destination(connect, tmp_path):
    store = ProxiedArtifactStore(connect(), "1/run/artifacts")
    with pytest.raises(InvalidInput, match="escapes its root"):
        store.download("", tmp_path / "dest")
    assert not (tmp_path / "escaped.txt").exists() and not list(tmp_path.rglob("escaped.txt"))


STREAMING = """
import resource, sys
from pathlib import Path
from pack.store.rest import ProxiedArtifactStore, RestConnection
source, dest = Path(sys.argv[2]), Path(sys.argv[3])
connection = RestConnection(sys.argv[1])
store = ProxiedArtifactStore(connection, "1/run/artifacts/big")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
store.put_file(source, "256mb.bin")
store.download("", dest)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
connection.close()
print((after - before) // 1024, dest.joinpath("256mb.bin").stat().st_size >> 20)
"""


def test_files_stream_both_ways_in_bounded_memory(server, tmp_path):
    source = tmp_path / "upload.bin"
    with open(source, "wb") as handle:
        handle.truncate(256 << 20)  # sparse: the test itself needs no 256 MB of memory
    done = subprocess.run(
        [sys.executable, "-c", STREAMING, server, str(source), str(tmp_path / "down")],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    grown_mb, downloaded_mb = (int(x) for x in done.stdout.split())
    assert downloaded_mb == 256
    assert grown_mb < 64, f"peak memory grew by {grown_mb} MB moving 256 MB each way"


def test_a_closed_connection_reopens(connect):
    connection = connect()
    assert connection.get("/echo")["method"] == "GET"
    connection.close()
    assert connection.get("/echo")["method"] == "GET"
