"""``pack serve`` attacked and misused: bad input, slow and stalled clients, hung models, hosts, tokens.

Every server is a real ``pack serve`` process on a free port, spoken to over HTTP or raw sockets.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import pack.pyfunc
from tests.serving.support import FEATURES, ServerProcess, marker_of


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _raw(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _metric(server: ServerProcess, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(server.client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@pytest.fixture(scope="module")
def float32_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One required float32 column ``x``; answers ``x * 2``."""

    class Double(pack.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input["x"].to_numpy() * 2

    path = tmp_path_factory.mktemp("models") / "f32"
    example = pd.DataFrame({"x": np.array([1.0, 2.0], dtype=np.float32)})
    pack.pyfunc.save_model(path, python_model=Double(), input_example=example)
    return path


@pytest.fixture(scope="module")
def exiting_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ends its own process with exit code 3 (uvicorn's start-up failure code) when ``x == 3``."""

    class Exits(pack.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            if (model_input["x"] == 3).any():
                os._exit(3)
            return model_input["x"].to_numpy()

    path = tmp_path_factory.mktemp("models") / "exits"
    pack.pyfunc.save_model(path, python_model=Exits(), input_example=pd.DataFrame({"x": [1.0]}))
    return path


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory, rf_model: Path, tensor_model: Path, float32_model: Path) -> Any:
    server = ServerProcess(
        [f"rf={rf_model}", str(tensor_model), str(float32_model)], tmp_path_factory.mktemp("logs") / "hard.log"
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# bad input: 4xx with a JSON body, never 5xx, never silently wrong


def _csv(client: httpx.Client, text: str, path: str = "/invocations/rf") -> httpx.Response:
    return client.post(path, content=text, headers={"content-type": "text/csv"})


def test_csv_rows_must_have_the_headers_field_count(hardened: ServerProcess) -> None:
    client = hardened.client
    header = ",".join(FEATURES)
    row = ",".join(["0.5"] * 10)
    assert _csv(client, f"{header}\n{row}\n").status_code == 200
    longer = _csv(client, f"{header}\n{row}\n{row},1,2\n")
    assert longer.status_code == 400
    assert "line 3 has 12 fields, the header has 10" in longer.json()["message"]
    shorter = _csv(client, f"{header}\n{row}\n0.1,0.2\n")
    assert shorter.status_code == 400
    assert "line 3" in shorter.json()["message"]
    quoted = _csv(client, f'{header}\n{row}\n"0.1",0.2,"0.3,0.4"\n')
    assert quoted.status_code == 400
    assert "line 3 has 3 fields" in quoted.json()["message"]
    shifted = _csv(client, "f0,f1,f2,f3\n1,2,3,4,5,6\n", "/invocations/halves")
    assert shifted.status_code == 400  # pandas would have scored 3,4,5,6
    header_only = _csv(client, f"{header}\n")
    assert header_only.status_code == 400
    assert "no rows" in header_only.json()["message"]
    assert _csv(client, "").status_code == 400


def test_values_a_column_cannot_hold_are_400_naming_it(hardened: ServerProcess) -> None:
    client = hardened.client
    ok = client.post("/invocations/f32", json={"dataframe_split": {"columns": ["x"], "data": [[1.5]]}})
    assert ok.json() == {"predictions": [3.0]}
    huge = client.post("/invocations/f32", json={"dataframe_split": {"columns": ["x"], "data": [[1e308]]}})
    assert huge.status_code == 400
    assert "'x'" in huge.json()["message"]
    v2_huge = client.post(
        "/v2/models/f32/infer", json={"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1e308]}]}
    )
    assert v2_huge.status_code == 400
    for value in ("nan", "inf", "-Infinity"):
        missing = _csv(client, f"x\n1.0\n{value}\n", "/invocations/f32")
        assert missing.status_code == 400, value
        assert "'x'" in missing.json()["message"]
    header = ",".join(FEATURES)
    nan_row = ",".join(["nan"] + ["0.5"] * 9)
    rf_nan = _csv(client, f"{header}\n{nan_row}\n")
    assert rf_nan.status_code == 400
    assert "'f0'" in rf_nan.json()["message"]
    empty_field = _csv(client, f"{header}\n0.5,,{','.join(['0.5'] * 8)}\n")
    assert empty_field.status_code == 400
    assert "'f1'" in empty_field.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"inputs": [{"name": "x", "shape": [], "datatype": "FP64", "data": 5}]},
        {"inputs": [{"name": "x", "shape": [1, 10], "datatype": {}, "data": [0.5] * 10}]},
        {"inputs": [{"name": "x", "shape": [True], "datatype": "FP64", "data": [0.5]}]},
        {"inputs": [{"name": "x", "shape": [2**62, 2**62], "datatype": "FP64", "data": [0.5]}]},
        {"inputs": [{"name": "x", "shape": [4611686018427387904, 4], "datatype": "FP64", "data": [0.5]}]},
        {"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP64", "data": [0.5] * 10}], "outputs": None},
        {"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP64", "data": [0.5] * 10}], "outputs": [{}]},
        {"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP64", "data": [0.5] * 10}], "parameters": None},
        {"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP64", "data": [0.5] * 10}], "id": None},
        {"inputs": [{"name": "x", "shape": [0, 10], "datatype": "FP64", "data": []}]},
        {"inputs": []},
        {"inputs": {}},
    ],
)
def test_malformed_v2_requests_are_400(hardened: ServerProcess, body: Any) -> None:
    response = hardened.client.post("/v2/models/rf/infer", json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error", "request_id"}


@pytest.mark.parametrize(
    "body",
    [
        {"inputs": {}},
        {"inputs": []},
        {"instances": []},
        {"dataframe_records": []},
        {"dataframe_split": {"columns": FEATURES, "data": []}},
        {"dataframe_split": {"columns": FEATURES, "data": [[0.5] * 10]}, "params": None},
        {"inputs": [[1e400]]},
    ],
)
def test_empty_or_malformed_invocations_are_400(hardened: ServerProcess, body: Any) -> None:
    response = hardened.client.post(
        "/invocations/rf",
        content=json.dumps(body).replace("Infinity", "1e400"),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")


def test_a_malformed_http_request_gets_a_json_400(hardened: ServerProcess) -> None:
    with socket.create_connection(_raw(hardened.url), timeout=10) as sock:
        sock.sendall(b"GARBAGE / NOT-HTTP\r\n\r\n")
        answer = sock.recv(65536).decode()
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400")
    assert "content-type: application/json" in head.lower()
    assert json.loads(body) == {"error_code": "BAD_REQUEST", "message": "Invalid HTTP request received."}


def test_warnings_are_one_log_line_with_the_request_id(hardened: ServerProcess) -> None:
    rows = [{**dict.fromkeys(FEATURES, 0.5), "extra_column": 1.0}]
    response = hardened.client.post(
        "/invocations/rf", json={"dataframe_records": rows}, headers={"x-request-id": "req-42"}
    )
    assert response.status_code == 200
    deadline = time.monotonic() + 10
    while "req-42" not in hardened.output and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(line for line in hardened.output.splitlines() if "req-42" in line)
    assert "SchemaWarning: Dropping input columns" in line
    assert "extra_column" in line
    assert ".py:" not in hardened.output  # no internal file paths or source lines


# ---------------------------------------------------------------------------------------------
# slow, stalled and too many clients


def test_stalled_bodies_are_dropped_at_the_timeout_and_their_memory_freed(start_server: Any, echo_model: Path) -> None:
    server = start_server(str(echo_model), "--body-timeout", "3", "--max-body-size", "64")
    pid = server.process.pid
    server.client.post("/invocations", json={"dataframe_records": [{"id": 1, "x": 1.0}]})
    idle = _rss_kib(pid)
    declared, sent = 40 * 2**20, 20 * 2**20
    sockets = []
    for _ in range(8):
        sock = socket.create_connection(_raw(server.url), timeout=30)
        head = (
            f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"[" * sent)
        sockets.append(sock)
    try:
        answers = []
        for sock in sockets:  # each is answered 408 at the deadline, with JSON, and closed
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            answers.append(data.decode())
        assert all(a.startswith("HTTP/1.1 408") for a in answers), answers[0][:200]
        assert all('"request_id"' in a and "--body-timeout" in a for a in answers)
    finally:
        for sock in sockets:
            sock.close()
    deadline = time.monotonic() + 10
    while _rss_kib(pid) > idle * 1.1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _rss_kib(pid) <= idle * 1.1, (idle, _rss_kib(pid))
    assert server.client.post("/invocations", json={"dataframe_records": [{"id": 2, "x": 1.0}]}).json() == {
        "predictions": [4]
    }


def test_a_client_trickling_headers_is_cut_off(start_server: Any, echo_model: Path) -> None:
    server = start_server(str(echo_model), "--keep-alive-timeout", "1")
    with socket.create_connection(_raw(server.url), timeout=10) as sock:
        sock.sendall(b"POST /invocations HTTP/1.1\r\n")
        closed = False
        for _ in range(30):  # one header byte every 0.2 s: uvicorn's keep-alive timer alone would never fire
            try:
                sock.sendall(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            sock.setblocking(False)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
    assert closed


async def _post_all(url: str, requests: list[tuple[str, Any]], headers: dict[str, str] | None = None) -> list[Any]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=headers) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in requests))


def test_concurrency_and_queue_caps_answer_503_with_retry_after(start_server: Any, echo_model: Path) -> None:
    server = start_server(str(echo_model), "--max-concurrency", "4", "--max-batch-size", "1")
    requests = [("/invocations", {"dataframe_records": [{"id": i, "x": 0.5}]}) for i in range(24)]
    responses = asyncio.run(_post_all(server.url, requests))
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 503}
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert "--max-concurrency" in refused.json()["message"]
    assert _metric(server, "pack_rejected_requests_total", reason="concurrency") == statuses.count(503)
    assert server.client.get("/v2/health/ready").status_code == 200  # health routes are not capped

    queued = start_server(str(echo_model), "--max-queue-rows", "6", "--max-batch-size", "1")
    requests = [("/invocations", {"dataframe_records": [{"id": i, "x": 0.5}, {"id": i, "x": 0.5}]}) for i in range(24)]
    responses = asyncio.run(_post_all(queued.url, requests))
    statuses = [r.status_code for r in responses]
    assert set(statuses) == {200, 503}
    assert _metric(queued, "pack_rejected_requests_total", reason="queue") == statuses.count(503)


def test_a_bad_request_never_costs_the_good_ones_a_rerun(start_server: Any, echo_model: Path) -> None:
    server = start_server(str(echo_model))
    requests = []
    for i in range(64):
        row: dict[str, Any] = {"id": i, "x": 0.5}
        if i % 16 == 5:
            row["x"] = "poison"  # fails the signature: refused before it joins a batch
        requests.append(("/invocations", {"dataframe_records": [row]}))
    responses = asyncio.run(_post_all(server.url, requests))
    assert [r.status_code for r in responses] == [400 if i % 16 == 5 else 200 for i in range(64)]
    assert _metric(server, "pack_batch_reruns_total") == 0
    requests = [
        ("/invocations", {"dataframe_records": [{"id": i, "x": 666 if i % 16 == 5 else 0.5}]}) for i in range(64)
    ]
    responses = asyncio.run(_post_all(server.url, requests))
    assert [r.status_code for r in responses] == [500 if i % 16 == 5 else 200 for i in range(64)]
    assert _metric(server, "pack_batch_reruns_total") > 0  # model-raised errors still split a batch, counted


# ---------------------------------------------------------------------------------------------
# hung models, drains and workers


def test_a_hung_predict_turns_readiness_then_liveness_to_503(start_server: Any, slow_model: Path) -> None:
    server = start_server(
        str(slow_model), "--timeout", "1", "--ready-grace", "1", "--liveness-timeout", "4", "--max-batch-size", "1"
    )
    marker = marker_of(slow_model)
    marker.unlink(missing_ok=True)
    client = server.client
    hung = client.post("/invocations", json={"dataframe_records": [{"x": 9.0}]})
    assert hung.status_code == 504
    deadline = time.monotonic() + 20
    while client.get("/v2/health/ready").status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.get("/ping").status_code == 503
    assert "predicting for" in client.get("/ping").json()["message"]
    fast = client.post("/invocations", json={"dataframe_records": [{"x": 0.0}]})
    assert fast.status_code == 503  # at once, instead of queueing behind the hung predict
    assert fast.headers["retry-after"]
    while client.get("/v2/health/live").status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert client.get("/v2/health/live").json() == {"live": False}
    while client.get("/v2/health/ready").status_code != 200:  # the predict returns: healthy again
        assert time.monotonic() < deadline + 10
        time.sleep(0.1)
    assert client.post("/invocations", json={"dataframe_records": [{"x": 0.0}]}).json() == {"predictions": [1.0]}


def test_drain_timeout_bounds_shutdown(start_server: Any, slow_model: Path) -> None:
    server = start_server(str(slow_model), "--drain-timeout", "2", "--timeout", "60")
    marker = marker_of(slow_model)
    marker.unlink(missing_ok=True)
    result: dict[str, Any] = {}

    def slow_request() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            result["response"] = client.post("/invocations", json={"dataframe_records": [{"x": 20.0}]})

    thread = threading.Thread(target=slow_request)
    thread.start()
    while not marker.exists():
        time.sleep(0.01)
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(12)  # the predict would take 20 s; the drain allows 2
    thread.join(30)
    assert code == 0
    response = result["response"]
    assert response.status_code == 503
    assert response.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"


def _workers(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_that_exits_at_run_time_is_replaced(start_server: Any, exiting_model: Path) -> None:
    server = start_server(str(exiting_model), "-w", "2")
    before = _workers(server.process.pid)
    assert len(before) == 2
    with pytest.raises(httpx.TransportError):
        for _ in range(20):  # whichever worker takes it exits with code 3
            server.client.post("/invocations", json={"dataframe_records": [{"x": 3.0}]})
    deadline = time.monotonic() + 60
    while True:
        now = _workers(server.process.pid)
        if len(now) == 2 and set(now) != set(before):
            break
        assert server.process.poll() is None, server.output
        assert time.monotonic() < deadline, server.output
        time.sleep(0.2)
    server.wait_ready()
    assert server.client.post("/invocations", json={"dataframe_records": [{"x": 1.0}]}).json() == {"predictions": [1.0]}
    assert "exited with 3; starting another" in server.output


def test_new_connections_during_a_drain_are_refused_at_once(start_server: Any, slow_model: Path) -> None:
    server = start_server(str(slow_model), "-w", "2", "--drain-timeout", "20")
    marker = marker_of(slow_model)
    marker.unlink(missing_ok=True)
    result: dict[str, Any] = {}

    def slow_request() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            result["response"] = client.post("/invocations", json={"dataframe_records": [{"x": 8.0}]})

    thread = threading.Thread(target=slow_request)
    thread.start()
    while not marker.exists():
        time.sleep(0.01)
    server.process.send_signal(signal.SIGTERM)
    # Refused while the request in flight still runs (how soon after SIGTERM depends on the machine's load).
    while True:
        assert thread.is_alive(), "new connections were still accepted when the request in flight ended"
        try:
            httpx.get(f"{server.url}/v2/health/live", timeout=2)
        except httpx.ConnectError:
            break
        time.sleep(0.05)
    thread.join(60)
    assert result["response"].json() == {"predictions": [9.0]}
    assert server.process.wait(60) == 0


def test_workers_die_with_a_killed_parent(start_server: Any, rf_model: Path) -> None:
    server = start_server(str(rf_model), "-w", "2")
    workers = _workers(server.process.pid)
    assert len(workers) == 2
    server.process.kill()
    server.process.wait()
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "workers outlived their parent"
        time.sleep(0.2)


def test_a_restarted_worker_refuses_a_tampered_version(start_server: Any, rf_model: Path, tmp_path: Path) -> None:
    env = {
        "PACK_TRACKING_URI": f"sqlite:///{tmp_path}/pack.db",
        "PACK_DEFAULT_ARTIFACT_ROOT": str(tmp_path / "packruns"),
        "PACK_CACHE_DIR": str(tmp_path / "cache"),
    }
    command = [
        sys.executable,
        "-c",
        "from pack.cli.main import main; main()",
        "models",
        "register",
        str(rf_model),
        "rf",
    ]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    server = start_server("models:/rf/1", "-w", "2", env=env)
    workers = _workers(server.process.pid)
    (stored,) = (tmp_path / "packruns").rglob("MLmodel")
    stored.chmod(0o644)
    stored.write_text(stored.read_text().replace("predict_fn: predict", "predict_fn: predict_proba"))
    os.kill(workers[0], signal.SIGKILL)
    assert server.process.wait(120) != 0  # the replacement fails its checks: the server stops, never serves
    assert "changed after registration" in server.output


# ---------------------------------------------------------------------------------------------
# hosts, origins and tokens


def test_host_header_cors_and_bearer_token(start_server: Any, rf_model: Path) -> None:
    server = start_server(
        str(rf_model),
        "--cors-allowed-origins",
        "https://app.example",
        ready=False,
        env={"PACK_SERVE_AUTH_TOKEN": "s3cret"},
    )
    server.wait_ready()
    client = server.client
    body = {"dataframe_split": {"columns": FEATURES, "data": [[0.5] * 10]}}
    rebound = client.get("/openapi.json", headers={"host": "attacker.example", "authorization": "Bearer s3cret"})
    assert rebound.status_code == 400
    assert "host" in rebound.json()["message"].lower()
    assert client.get("/v2/health/ready").status_code == 200  # probes need no token
    missing = client.post("/invocations", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert client.post("/invocations", json=body, headers={"authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/v2/models/rf").status_code == 401
    good = client.post("/invocations", json=body, headers={"authorization": "Bearer s3cret"})
    assert good.status_code == 200
    preflight = client.options(
        "/invocations",
        headers={"origin": "https://app.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    refused = client.options(
        "/invocations",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/json"
    simple = client.post(
        "/invocations", json=body, headers={"authorization": "Bearer s3cret", "origin": "https://app.example"}
    )
    assert simple.headers["access-control-allow-origin"] == "https://app.example"


def test_a_server_bound_to_every_interface_takes_any_host(start_server: Any, rf_model: Path) -> None:
    server = start_server(str(rf_model), "-h", "0.0.0.0")
    assert server.client.get("/v2/models/rf", headers={"host": "rf.models.internal:8080"}).status_code == 200
