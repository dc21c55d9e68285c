"""``pack serve`` as a real process on a free port: formats, routes, errors, health, shutdown."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

import pack.pyfunc
from tests.serving.support import FEATURES, ServerProcess, load_quietly, marker_of


def _rows(frame: pd.DataFrame, start: int, count: int) -> pd.DataFrame:
    return frame.iloc[start : start + count].reset_index(drop=True)


def _metric(server: ServerProcess, name: str, **labels: str) -> float:
    text = server.client.get("/metrics").text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


# ---------------------------------------------------------------------------------------------
# formats


def test_every_invocations_format_matches_in_process_predict(
    rf_server: ServerProcess, rf_model: Path, rf_data: tuple[Any, pd.DataFrame]
) -> None:
    _, frame = rf_data
    rows = _rows(frame, 100, 25)
    expected = load_quietly(rf_model).predict(rows).tolist()
    parquet = io.BytesIO()
    rows.to_parquet(parquet)
    records = json.dumps(rows.to_dict(orient="records"))
    columns = json.dumps({name: rows[name].tolist() for name in rows.columns})
    split = json.dumps({"columns": list(rows.columns), "data": rows.to_numpy().tolist()})
    bodies: list[tuple[str, bytes | str]] = [
        ("application/json", f'{{"dataframe_split": {split}}}'),
        ("application/json", f'{{"dataframe_records": {records}}}'),
        ("application/json", f'{{"instances": {records}}}'),
        ("application/json", f'{{"inputs": {columns}}}'),
        ("application/json; charset=utf-8", f'{{"inputs": {columns}}}'),
        ("text/csv", rows.to_csv(index=False, float_format="%.17g")),
        ("application/vnd.apache.parquet", parquet.getvalue()),
    ]
    for content_type, body in bodies:
        response = rf_server.client.post("/invocations", content=body, headers={"content-type": content_type})
        assert response.status_code == 200, (content_type, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"predictions": expected}, content_type


def test_health_version_and_metadata_routes(rf_server: ServerProcess) -> None:
    client = rf_server.client
    assert client.get("/ping").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/version").text == pack.__version__
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2").json()["name"] == "pack"
    assert client.get("/v2/models").json() == {"models": ["rf"]}
    assert client.get("/v2/models/rf/ready").json() == {"name": "rf", "ready": True}
    assert client.get("/v2/models/rf/versions/1/ready").status_code == 200
    metadata = client.get("/v2/models/rf").json()
    assert metadata["versions"] == ["1"]
    assert metadata["platform"] == "pack_sklearn"
    assert [t["name"] for t in metadata["inputs"]] == FEATURES
    assert {t["datatype"] for t in metadata["inputs"]} == {"FP64"}
    assert metadata["outputs"] == [{"name": "predictions", "datatype": "INT64", "shape": [-1]}]


def test_several_models_are_served_by_name_and_version(
    multi_server: ServerProcess, rf_model: Path, rf_data: tuple[Any, pd.DataFrame]
) -> None:
    _, frame = rf_data
    rows = _rows(frame, 0, 5)
    expected = load_quietly(rf_model).predict(rows).tolist()
    body = {"dataframe_split": {"columns": FEATURES, "data": rows.to_numpy().tolist()}}
    client = multi_server.client
    assert client.post("/invocations/rf", json=body).json() == {"predictions": expected}
    refused = client.post("/invocations", json=body)
    assert refused.status_code == 400
    assert "POST to /invocations/<name>" in refused.json()["message"]
    assert "echo" in refused.json()["message"]
    assert client.get("/v2/models/rf").json()["versions"] == ["1", "2"]
    flat = rows.to_numpy().ravel().tolist()
    for version in ("1", "2"):
        infer = client.post(
            f"/v2/models/rf/versions/{version}/infer",
            json={
                "inputs": [
                    {
                        "name": "x",
                        "shape": [5, 10],
                        "datatype": "FP64",
                        "data": flat,
                    }
                ]
            },
        )
        assert infer.status_code == 200, infer.text
        assert infer.json()["model_version"] == version
        assert infer.json()["outputs"][0]["data"] == expected
    assert client.get("/v2/models/rf/versions/3").status_code == 404


def test_params_and_frame_outputs(multi_server: ServerProcess) -> None:
    client = multi_server.client
    body = {"dataframe_records": [{"x": 1.5, "tag": "a"}, {"x": 2, "tag": "b"}], "params": {"scale": 3}}
    response = client.post("/invocations/scaled", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [{"y": 4.5, "tag": "A"}, {"y": 6.0, "tag": "B"}]}
    default = client.post("/invocations/scaled", json={"dataframe_records": body["dataframe_records"]})
    assert default.json()["predictions"][0]["y"] == 1.5
    bad = client.post("/invocations/scaled", json={**body, "params": {"scale": "big"}})
    assert bad.status_code == 400
    assert "scale" in bad.json()["message"]
    v2 = client.post(
        "/v2/models/scaled/infer",
        json={
            "parameters": {"scale": 2.0},
            "inputs": [
                {"name": "x", "shape": [2], "datatype": "FP64", "data": [1, 2]},
                {"name": "tag", "shape": [2], "datatype": "BYTES", "data": ["p", "q"]},
            ],
        },
    )
    assert v2.status_code == 200, v2.text
    outputs = {o["name"]: o for o in v2.json()["outputs"]}
    assert outputs["y"] == {"name": "y", "datatype": "FP64", "shape": [2], "data": [2.0, 4.0]}
    assert outputs["tag"]["datatype"] == "BYTES"
    assert outputs["tag"]["data"] == ["P", "Q"]


def test_tensor_model(multi_server: ServerProcess) -> None:
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    response = multi_server.client.post("/invocations/halves", json={"inputs": data.tolist()})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": (data[:, :2] * 2).tolist()}
    wrong = multi_server.client.post("/invocations/halves", json={"inputs": [[1.0, 2.0]]})
    assert wrong.status_code == 400
    assert "shape" in wrong.json()["message"]


# ---------------------------------------------------------------------------------------------
# errors


def test_each_error_has_its_status_and_json_body(rf_server: ServerProcess) -> None:
    client = rf_server.client
    row = [0.1] * 10

    def post(body: str, content_type: str = "application/json", path: str = "/invocations") -> httpx.Response:
        return client.post(path, content=body, headers={"content-type": content_type})

    malformed = post("{not json")
    assert (malformed.status_code, malformed.json()["error_code"]) == (400, "BAD_REQUEST")
    two_keys = post('{"inputs": [], "instances": []}')
    assert two_keys.status_code == 400
    assert "exactly one" in two_keys.json()["message"]
    missing = post('{"dataframe_split": {"columns": ["f0", "f1"], "data": [[1, 2]]}}')
    assert (missing.status_code, missing.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "f9" in missing.json()["message"]
    records = [dict(zip(FEATURES, row, strict=True))]
    records[0]["f3"] = "oops"
    wrong_type = client.post("/invocations", json={"dataframe_records": records})
    assert wrong_type.status_code == 400
    assert "'f3'" in wrong_type.json()["message"]
    unsupported = post("f0\n1\n", "text/plain")
    assert unsupported.status_code == 415
    assert set(unsupported.json()) == {"error_code", "message", "request_id"}
    latin = post('{"inputs": []}', "application/json; charset=latin-1")
    assert latin.status_code == 415
    unknown_model = post('{"inputs": []}', path="/invocations/nope")
    assert (unknown_model.status_code, unknown_model.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    unknown_v2 = client.post("/v2/models/nope/infer", json={"inputs": []})
    assert unknown_v2.status_code == 404
    assert set(unknown_v2.json()) == {"error", "request_id"}
    assert client.get("/no/such/route").status_code == 404
    assert client.get("/invocations").status_code == 405
    good = client.post("/invocations", json={"dataframe_split": {"columns": FEATURES, "data": [row]}})
    assert good.status_code == 200  # the server survived all of the above


def test_model_errors_timeouts_and_body_limits(start_server: Any, echo_model: Path, slow_model: Path) -> None:
    server = start_server(str(echo_model), str(slow_model), "--timeout", "1", "--max-body-size", "0.01")
    client = server.client
    failing = client.post("/invocations/echo", json={"dataframe_records": [{"id": 1, "x": 666}]})
    assert failing.status_code == 500
    body = failing.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    # The client learns the exception class and the request id; the model's message stays in the log.
    assert "ValueError" in body["message"]
    assert body["request_id"] in body["message"]
    assert failing.headers["x-request-id"] == body["request_id"]
    assert "666" not in failing.text
    assert "Traceback" not in failing.text
    assert "Traceback" in server.output
    assert "ValueError: x must not be 666" in server.output
    assert f"(request {body['request_id']})" in server.output
    v2_failing = client.post(
        "/v2/models/echo/infer",
        json={
            "inputs": [
                {"name": "id", "shape": [1], "datatype": "INT64", "data": [1]},
                {"name": "x", "shape": [1], "datatype": "FP64", "data": [666]},
            ]
        },
    )
    assert v2_failing.status_code == 500
    assert set(v2_failing.json()) == {"error", "request_id"}

    slow = client.post("/invocations/slow", json={"dataframe_records": [{"x": 3}]})
    assert slow.status_code == 504
    assert slow.json()["error_code"] == "DEADLINE_EXCEEDED"

    big = '{"dataframe_records": [' + ",".join(['{"id": 1, "x": 1.0}'] * 1000) + "]}"
    too_big = client.post("/invocations/echo", content=big, headers={"content-type": "application/json"})
    assert too_big.status_code == 413
    assert set(too_big.json()) == {"error_code", "message", "request_id"}
    chunked = client.post(
        "/invocations/echo", content=iter([big.encode()]), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413

    fine = client.post("/invocations/echo", json={"dataframe_records": [{"id": 21, "x": 1.0}]})
    assert fine.json() == {"predictions": [42]}


# ---------------------------------------------------------------------------------------------
# batching


async def _post_all(url: str, requests: list[tuple[str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return await asyncio.gather(*(client.post(path, json=body) for path, body in requests))


def test_64_concurrent_clients_each_get_their_own_rows(multi_server: ServerProcess) -> None:
    for round_ in range(3):
        requests: list[tuple[str, Any]] = []
        for client in range(64):
            ids = [round_ * 100_000 + client * 100 + k for k in range(1 + client % 5)]
            rows = [{"id": i, "x": 0.5} for i in ids]
            if client % 8 == 3:
                rows[0]["x"] = 666  # the model raises: only this caller may fail
            elif client % 8 == 5:
                rows = [{"id": i} for i in ids]  # missing column
            elif client % 8 == 7:
                rows[-1]["x"] = "text"  # wrong type
            requests.append(("/invocations/echo", {"dataframe_records": rows}))
        responses = asyncio.run(_post_all(multi_server.url, requests))
        for client, ((_, body), response) in enumerate(zip(requests, responses, strict=True)):
            if client % 8 == 3:
                assert response.status_code == 500, response.text
            elif client % 8 in (5, 7):
                assert response.status_code == 400, response.text
            else:
                assert response.status_code == 200, response.text
                doubled = [row["id"] * 2 for row in body["dataframe_records"]]
                assert response.json() == {"predictions": doubled}


def test_concurrent_requests_are_merged(multi_server: ServerProcess) -> None:
    calls = _metric(multi_server, "pack_batch_size_count", model="echo")
    requests = [("/invocations/echo", {"dataframe_records": [{"id": i, "x": 1.0}]}) for i in range(64)]
    responses = asyncio.run(_post_all(multi_server.url, requests))
    assert [r.json()["predictions"] for r in responses] == [[2 * i] for i in range(64)]
    assert _metric(multi_server, "pack_batch_size_count", model="echo") - calls < 64


def test_concurrent_random_forest_requests_match_in_process(
    multi_server: ServerProcess, rf_model: Path, rf_data: tuple[Any, pd.DataFrame]
) -> None:
    _, frame = rf_data
    expected = load_quietly(rf_model).predict(frame).tolist()
    requests: list[tuple[str, Any]] = []
    for i in range(64):
        rows = frame.iloc[[i, 100 + i]].to_numpy().tolist()
        if i % 2:
            requests.append(("/invocations/rf", {"dataframe_split": {"columns": FEATURES, "data": rows}}))
        else:
            tensor = {
                "name": "x",
                "shape": [2, 10],
                "datatype": "FP64",
                "data": [v for row in rows for v in row],
            }
            requests.append(("/v2/models/rf/infer", {"inputs": [tensor]}))
    responses = asyncio.run(_post_all(multi_server.url, requests))
    for i, response in enumerate(responses):
        assert response.status_code == 200, response.text
        got = response.json()["predictions"] if i % 2 else response.json()["outputs"][0]["data"]
        assert got == [expected[i], expected[100 + i]]


def test_outputs_that_are_not_row_aligned_are_never_mixed(multi_server: ServerProcess) -> None:
    requests = [
        ("/invocations/total", {"dataframe_split": {"columns": ["a", "b"], "data": [[i, i], [1, 1]]}})
        for i in range(32)
    ]
    responses = asyncio.run(_post_all(multi_server.url, requests))
    for i, response in enumerate(responses):
        assert response.status_code == 200, response.text
        assert response.json() == {"predictions": {"total": 2.0 * i + 2}}


def test_metrics(rf_server: ServerProcess) -> None:
    rf_server.client.post("/invocations", json={"inputs": [[0.0] * 10]})
    assert _metric(rf_server, "pack_requests_total", model="rf", endpoint="/invocations", status="200") >= 1
    assert _metric(rf_server, "pack_request_duration_seconds_count", model="rf", endpoint="/invocations") >= 1
    assert _metric(rf_server, "pack_model_load_seconds", model="rf", version="1") > 0
    assert _metric(rf_server, "pack_model_ready", model="rf") == 1
    assert _metric(rf_server, "pack_batch_rows_sum", model="rf") >= 1
    text = rf_server.client.get("/metrics").text
    for name in ("pack_requests_in_flight", "pack_queue_depth", "pack_predict_duration_seconds"):
        assert name in text


# ---------------------------------------------------------------------------------------------
# life cycle


@pytest.fixture
def slow_loading_model(tmp_path: Path) -> Path:
    """Takes 3 s to load; its first predict (the warm-up) leaves a marker file."""

    class SlowLoad(pack.pyfunc.PythonModel):
        def __init__(self, marker: str) -> None:
            self.marker = marker

        def load_context(self, context: Any) -> None:
            import time

            time.sleep(3)

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            Path(self.marker).write_text("warmed up")
            return model_input["x"].to_numpy()

    path = tmp_path / "slowload"
    marker = tmp_path / "warm"
    pack.pyfunc.save_model(path, python_model=SlowLoad(str(marker)), input_example=pd.DataFrame({"x": [1.0]}))
    marker.unlink(missing_ok=True)
    return path


def test_ready_only_after_load_and_warm_up(start_server: Any, slow_loading_model: Path) -> None:
    server = start_server(str(slow_loading_model), ready=False)
    client = server.client
    deadline = time.monotonic() + 120
    while True:  # liveness answers as soon as the process does, long before the model is loaded
        assert time.monotonic() < deadline
        try:
            live = client.get("/v2/health/live")
            break
        except httpx.TransportError:
            time.sleep(0.05)
    assert live.status_code == 200
    answers = {
        "ready": client.get("/v2/health/ready"),
        "ping": client.get("/ping"),
        "health": client.get("/health"),
        "model": client.get("/v2/models/slowload/ready"),
    }
    assert {key: answer.status_code for key, answer in answers.items()} == dict.fromkeys(answers, 503)
    assert answers["ready"].json() == {"ready": False}
    assert answers["model"].json() == {"name": "slowload", "ready": False}
    for key in ("ping", "health"):
        assert answers[key].json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    # A scoring request sent during the load waits for the model instead of failing.
    scored = client.post("/invocations", json={"dataframe_records": [{"x": 2.0}]}, timeout=120)
    assert scored.status_code == 200
    assert scored.json() == {"predictions": [2.0]}
    assert (slow_loading_model.parent / "warm").read_text() == "warmed up"
    assert client.get("/ping").status_code == 200


def test_a_model_that_fails_to_load_stops_the_server(start_server: Any, tmp_path: Path, rf_model: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(rf_model, broken)
    (broken / "model.skops").write_bytes(b"not a model")
    server = start_server(str(broken), ready=False)
    assert server.process.wait(60) != 0
    assert "failed to load" in server.output


def test_sigterm_finishes_in_flight_requests(start_server: Any, slow_model: Path) -> None:
    server = start_server(str(slow_model))
    marker = marker_of(slow_model)
    marker.unlink(missing_ok=True)
    result: dict[str, Any] = {}

    def slow_request() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            result["response"] = client.post("/invocations", json={"dataframe_records": [{"x": 2.0}]})

    thread = threading.Thread(target=slow_request)
    thread.start()
    while not marker.exists():
        assert thread.is_alive()
        time.sleep(0.01)
    server.process.send_signal(signal.SIGTERM)
    thread.join(60)
    assert result["response"].status_code == 200
    assert result["response"].json() == {"predictions": [3.0]}
    assert server.process.wait(60) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/v2/health/live", timeout=5)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_two_workers_share_the_port(start_server: Any, rf_model: Path, rf_data: tuple[Any, pd.DataFrame]) -> None:
    server = start_server(str(rf_model), "-w", "2", "-h", "0.0.0.0")
    assert "listening on http://0.0.0.0:" in server.output
    workers = [pid for pid in _children(server.process.pid) if _is_worker(pid)]
    assert len(workers) == 2
    _, frame = rf_data
    expected = load_quietly(rf_model).predict(frame.head(40)).tolist()
    url = server.url.replace("0.0.0.0", "127.0.0.1")
    requests = [
        ("/invocations", {"dataframe_split": {"columns": FEATURES, "data": [frame.iloc[i].tolist()]}})
        for i in range(40)
    ]
    responses = asyncio.run(_post_all(url, requests))
    assert [r.json()["predictions"][0] for r in responses] == expected
    assert server.stop() == 0
    assert not any(Path(f"/proc/{pid}").exists() and _is_worker(pid) for pid in workers)


def test_two_workers_split_a_burst_of_connections(start_server: Any, rf_model: Path) -> None:
    """Each worker listens on its own socket (SO_REUSEPORT): 32 clients connecting at once land on
    both workers, told apart by the per-process prefix of the request ids in their 400 answers."""
    server = start_server(str(rf_model), "-w", "2")

    async def one() -> str:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:  # a connection of its own
            response = await client.post("/invocations", content=b"{", headers={"content-type": "application/json"})
            assert response.status_code == 400
            return str(response.json()["request_id"]).split("-")[0]

    async def burst() -> list[str]:
        return list(await asyncio.gather(*(one() for _ in range(32))))

    assert len(set(asyncio.run(burst()))) == 2


def test_accepted_sockets_get_tcp_nodelay() -> None:
    """A listening socket made without IPPROTO_TCP (as a shared multi-worker socket is) leaves
    TCP_NODELAY off on accepted connections; ``set_nodelay`` turns it on."""
    import socket

    from pack.serving.server import set_nodelay

    seen: dict[str, int] = {}

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            seen["before"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            set_nodelay(transport)
            seen["after"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            transport.close()

    async def run() -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn binds it
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        while "after" not in seen:
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(run())
    assert seen == {"before": 0, "after": 1}
