"""Concurrency and durability of ``pack server``: 16 clients at once on ``-w 2`` workers (SQLite in WAL
mode, PostgreSQL) lose and duplicate nothing; a SIGKILLed server keeps every acknowledged write; SIGTERM
lets an in-flight upload finish; an artifact streams through with flat server memory."""

from __future__ import annotations

import hashlib
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.registry.support import postgres_schema
from tests.server.support import TrackingServerProcess

API = "/api/2.0/mlflow"
CLIENTS = 16


def _client_work(url: str, experiment: str, index: int) -> str:
    with httpx.Client(base_url=url, timeout=120) as client:
        run = client.post(f"{API}/runs/create", json={"experiment_id": experiment, "run_name": f"c{index}"})
        run_id = run.json()["run"]["info"]["run_id"]
        for step in range(20):
            answer = client.post(
                f"{API}/runs/log-metric",
                json={"run_id": run_id, "key": "single", "value": step, "timestamp": 1000 + step, "step": step},
            )
            assert answer.status_code == 200, answer.text
        batch = [{"key": "batch", "value": i, "timestamp": 1, "step": i} for i in range(200)]
        params = [{"key": f"p{i}", "value": str(index)} for i in range(10)]
        answer = client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": batch, "params": params})
        assert answer.status_code == 200, answer.text
        client.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED", "end_time": 2})
        return str(run_id)


def _sixteen_clients(server: TrackingServerProcess) -> None:
    experiment = server.client.post(f"{API}/experiments/create", json={"name": "concurrent"}).json()["experiment_id"]
    with ThreadPoolExecutor(CLIENTS) as pool:
        run_ids = list(pool.map(lambda i: _client_work(server.url, experiment, i), range(CLIENTS)))
    assert len(set(run_ids)) == CLIENTS
    found = server.client.post(f"{API}/runs/search", json={"experiment_ids": [experiment], "max_results": 100}).json()
    assert sorted(r["info"]["run_id"] for r in found["runs"]) == sorted(run_ids)
    for run in found["runs"]:
        assert run["info"]["status"] == "FINISHED"
        run_id = run["info"]["run_id"]
        single = server.client.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "single"})
        assert [m["step"] for m in single.json()["metrics"]] == list(range(20))
        batch = server.client.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "batch"})
        assert sorted(m["step"] for m in batch.json()["metrics"]) == list(range(200))
        assert len(run["data"]["params"]) == 10


@pytest.mark.slow
def test_sixteen_clients_on_two_workers_with_sqlite(tmp_path):
    server = TrackingServerProcess(
        ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", str(tmp_path), "-w", "2"],
        tmp_path / "server.log",
    )
    try:
        _sixteen_clients(server)
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.output


@pytest.mark.slow
def test_sixteen_clients_on_two_workers_with_postgresql(tmp_path, postgres_uri):
    with postgres_schema(postgres_uri) as uri:
        server = TrackingServerProcess(
            ["--backend-store-uri", uri, "--default-artifact-root", str(tmp_path), "-w", "2"], tmp_path / "server.log"
        )
        try:
            _sixteen_clients(server)
        finally:
            assert server.stop() == 0
    assert "Traceback" not in server.output


def test_a_killed_server_keeps_every_acknowledged_write(tmp_path):
    args = ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", str(tmp_path)]
    server = TrackingServerProcess(args, tmp_path / "first.log")
    run_id = server.client.post(f"{API}/runs/create", json={}).json()["run"]["info"]["run_id"]
    acknowledged: list[int] = []
    stop = threading.Event()

    def log_forever(offset: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            step = offset
            while not stop.is_set():
                try:
                    answer = client.post(
                        f"{API}/runs/log-metric",
                        json={"run_id": run_id, "key": "m", "value": step, "timestamp": step, "step": step},
                    )
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    acknowledged.append(step)
                step += 2

    writers = [threading.Thread(target=log_forever, args=(i,)) for i in range(2)]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop(signal.SIGKILL)
    stop.set()
    for writer in writers:
        writer.join()
    assert len(acknowledged) >= 200
    again = TrackingServerProcess(args, tmp_path / "second.log")
    try:
        history = again.client.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
        stored = [m["step"] for m in history.json()["metrics"]]
        assert set(acknowledged) <= set(stored)
        assert len(stored) == len(set(stored))  # and nothing twice
    finally:
        assert again.stop() == 0


def test_sigterm_lets_an_upload_in_flight_finish(tmp_path):
    server = TrackingServerProcess(
        ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", str(tmp_path / "a")],
        tmp_path / "server.log",
    )
    chunks = 20
    started = threading.Event()

    def slow_body():
        for _ in range(chunks):
            started.set()
            yield b"x" * 65536
            time.sleep(0.1)

    result: dict[str, int] = {}

    def upload() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            result["status"] = client.put(
                "/api/2.0/mlflow-artifacts/artifacts/0/slow.bin", content=slow_body()
            ).status_code

    uploader = threading.Thread(target=upload)
    uploader.start()
    started.wait(30)
    time.sleep(0.3)
    assert server.stop(signal.SIGTERM) == 0
    uploader.join()
    assert result["status"] == 200
    assert (tmp_path / "a" / "0" / "slow.bin").stat().st_size == chunks * 65536


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.slow
def test_a_large_artifact_streams_both_ways_with_flat_server_memory(tmp_path):
    size = 1 << 30  # 1 GiB (the 2 GB behaves the same: the server holds at most a few MB of it)
    server = TrackingServerProcess(
        ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", str(tmp_path / "a")],
        tmp_path / "server.log",
    )
    try:
        server.client.get(f"{API}/experiments/search")  # warm: imports done, database open
        baseline = _peak_kib(server.process.pid)
        block = bytes(range(256)) * 4096  # 1 MiB
        digest = hashlib.sha256()

        def body():
            for _ in range(size // len(block)):
                digest.update(block)
                yield block

        url = "/api/2.0/mlflow-artifacts/artifacts/0/big.bin"
        assert server.client.put(url, content=body(), timeout=600).status_code == 200
        after_upload = _peak_kib(server.process.pid)
        received = hashlib.sha256()
        length = 0
        with server.client.stream("GET", url, timeout=600) as response:
            assert response.headers["content-length"] == str(size)
            assert response.headers["content-disposition"] == 'attachment; filename="big.bin"'
            for chunk in response.iter_bytes():
                received.update(chunk)
                length += len(chunk)
        after_download = _peak_kib(server.process.pid)
        assert (length, received.hexdigest()) == (size, digest.hexdigest())
        assert after_upload - baseline < 64 * 1024, (baseline, after_upload)  # KiB: under 64 MiB for 1 GiB
        assert after_download - baseline < 64 * 1024, (baseline, after_download)
    finally:
        assert server.stop() == 0
