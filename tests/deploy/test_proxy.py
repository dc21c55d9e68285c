"""The deployment proxy between real ``pack serve`` processes: forwarding, switching, draining, bounds."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import pack.pyfunc
from devtools.builders import free_port, save_forest
from tests.deploy.support import ProxyProcess, ScoringLoop
from tests.serving.support import ServerProcess


@pytest.fixture(scope="module")
def forests(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("forests")
    return save_forest(root / "v1", seed=0), save_forest(root / "v2", seed=1)


@pytest.fixture(scope="module")
def rows(forests: tuple[Path, Path]) -> dict[str, Any]:
    return json.loads((forests[0].parent / "v1-rows.json").read_text())


@pytest.fixture(scope="module")
def servers(forests: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    logs = tmp_path_factory.mktemp("servers")
    started = [ServerProcess([f"rf:{n}={path}"], logs / f"v{n}.log") for n, path in ((1, forests[0]), (2, forests[1]))]
    try:
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


def address(server: ServerProcess) -> str:
    return server.url.removeprefix("http://")


@pytest.fixture
def proxy(servers: list[ServerProcess], tmp_path: Path) -> Iterator[ProxyProcess]:
    started = ProxyProcess(address(servers[0]), free_port(), tmp_path / "state")
    yield started
    started.stop()


def test_forwards_answers_and_errors_unchanged(proxy, servers, rows):
    body = {"dataframe_split": rows}
    direct = httpx.post(f"{servers[0].url}/invocations", json=body)
    through = httpx.post(f"{proxy.url}/invocations", json=body)
    assert through.status_code == 200 and through.json() == direct.json()
    wrong = {"dataframe_split": {"columns": ["nope"], "data": [[1]]}}
    bad = httpx.post(f"{proxy.url}/invocations", json=wrong)
    expected = httpx.post(f"{servers[0].url}/invocations", json=wrong).json()
    answer = bad.json()
    assert bad.status_code == 400 and answer.pop("request_id") == bad.headers["x-request-id"]
    assert answer == {key: value for key, value in expected.items() if key != "request_id"}
    assert httpx.get(f"{proxy.url}/v2/models/rf").json()["versions"] == ["1"]
    csv = httpx.post(
        f"{proxy.url}/invocations?x=1",
        content=pd.DataFrame(**rows).to_csv(index=False),
        headers={"Content-Type": "text/csv"},
    )
    assert csv.json() == direct.json()


def test_switch_moves_traffic_with_no_failed_request(proxy, servers, rows):
    with ScoringLoop(proxy.url, {"dataframe_split": rows}, "rf") as loop:
        loop.wait_for(20)
        done = proxy.command("switch", address(servers[1]))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {
            "target": address(servers[1]),
            "previous": address(servers[0]),
            "drained": True,
        }
        before = loop.versions["2"]
        loop.wait_for(20)
    assert loop.failures == []
    assert loop.versions["1"] > 0 and loop.versions["2"] > before  # both answered, the new one last
    assert httpx.get(f"{proxy.url}/v2/models/rf").json()["versions"] == ["2"]
    status = json.loads(proxy.command("status").stdout)
    assert status == {"target": address(servers[1]), "in_flight": {}}


@pytest.fixture(scope="module")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sleeps ``wait`` seconds per request, after writing ``started`` beside the model."""
    root = tmp_path_factory.mktemp("slow")
    marker = str(root / "started")

    class Slow(pack.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            seconds = float(model_input["wait"].max())
            if seconds:
                Path(marker).write_text("started")
                time.sleep(seconds)
            return model_input["wait"].to_numpy()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pack.pyfunc.save_model(root / "slow", python_model=Slow(), input_example=pd.DataFrame({"wait": [0.0]}))
    return root / "slow"


def test_switch_answers_once_requests_in_flight_finished(slow_model, servers, tmp_path):
    slow = ServerProcess([f"slow={slow_model}"], tmp_path / "slow.log")
    proxy = ProxyProcess(slow.url.removeprefix("http://"), free_port(), tmp_path / "state")
    try:
        slow.wait_ready()
        answers: list[httpx.Response] = []
        request = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{proxy.url}/invocations", json={"dataframe_records": [{"wait": 3.0}]}, timeout=60)
            )
        )
        request.start()
        marker = slow_model.parent / "started"
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        in_flight = json.loads(proxy.command("status").stdout)["in_flight"]
        assert in_flight == {slow.url.removeprefix("http://"): 1}
        done = proxy.command("switch", address(servers[0]))
        assert answers and answers[0].status_code == 200  # the switch answered after the request finished
        assert json.loads(done.stdout)["drained"] is True
        request.join()
        assert answers[0].json() == {"predictions": [3.0]}
    finally:
        proxy.stop()
        slow.stop()


def test_a_restarted_proxy_resumes_its_last_target(servers, tmp_path):
    port = free_port()
    first = ProxyProcess(address(servers[0]), port, tmp_path / "state")
    try:
        assert first.command("switch", address(servers[1])).returncode == 0
    finally:
        assert first.stop() == 0
    again = ProxyProcess(address(servers[0]), port, tmp_path / "state")  # the command line names the old one
    try:
        assert httpx.get(f"{again.url}/v2/models/rf").json()["versions"] == ["2"]
    finally:
        again.stop()


def test_bounds_and_unreachable_targets_are_json_errors(servers, tmp_path):
    dead = f"127.0.0.1:{free_port()}"
    proxy = ProxyProcess(dead, free_port(), tmp_path / "state", "--max-body-mb", "0.01")
    try:
        gone = httpx.get(f"{proxy.url}/ping")
        assert gone.status_code == 502 and gone.json()["error_code"] == "BAD_GATEWAY"
        assert dead in gone.json()["message"]
        large = httpx.post(f"{proxy.url}/invocations", content=b"x" * 20_000)
        assert large.status_code == 413 and large.json()["error_code"] == "REQUEST_TOO_LARGE"
        refused = proxy.command("switch", "not a target")
        assert refused.returncode == 1 and "HOST:PORT" in json.loads(refused.stdout)["error"]
    finally:
        proxy.stop()


def test_probe_says_whether_a_server_is_ready(proxy, servers):
    assert proxy.command("probe", address(servers[0])).returncode == 0
    assert proxy.command("probe", f"127.0.0.1:{free_port()}").returncode == 1
