"""The tracking server's app factory and command: what it imports, what it mounts, how it is configured."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from pack.errors import InvalidInput
from pack.server.app import create_app
from pack.server.settings import ServerSettings
from tests.server.support import TrackingServerProcess


def test_the_server_imports_no_model_framework():
    code = "import sys, pack.server.runner, pack.cli.server; print('\\n'.join(sys.modules))"
    loaded = {
        m.split(".")[0]
        for m in subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    }
    assert not loaded & {"numpy", "pandas", "pyarrow", "sklearn", "torch", "tensorflow", "prometheus_client"}


def test_extra_routes_are_mounted_below_the_api(tmp_path):
    async def ui(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<h1>runs</h1>"})

    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path}/p.db", default_artifact_root=str(tmp_path))

    async def exercise() -> tuple[str, int, str]:
        transport = httpx.ASGITransport(app=create_app(settings, ui))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            page = await client.get("/")
            api = await client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
            missing = await client.get("/api/2.0/mlflow/no-such-endpoint")
            nobody = await client.get("/ajax-api/2.0/mlflow/users/current")  # no --auth: no current user
            return page.text, api.status_code, missing.json()["error_code"], nobody.status_code

    assert asyncio.run(exercise()) == ("<h1>runs</h1>", 200, "ENDPOINT_NOT_FOUND", 404)


def test_settings_take_mlflow_defaults_flags_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = ServerSettings.build()
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 5000, 1)
    assert settings.backend_store_uri == f"sqlite:///{tmp_path}/pack.db"
    assert settings.destination == str(tmp_path / "packruns")
    assert settings.hosts == ("localhost", "127.0.0.1", "::1")
    monkeypatch.setenv("PACK_SERVER_WORKERS", "3")
    monkeypatch.setenv("PACK_SERVER_ALLOWED_HOSTS", "tracking.example.com, .corp")
    settings = ServerSettings.build(host="0.0.0.0", serve_artifacts=False)
    assert (settings.workers, settings.destination) == (3, None)
    assert settings.hosts == ("tracking.example.com", ".corp")
    with pytest.raises(InvalidInput, match="--port"):
        ServerSettings.build(port=70000)
    monkeypatch.setenv("PACK_SERVER_PORT", "70000")
    with pytest.raises(InvalidInput, match="PACK_SERVER_PORT"):
        ServerSettings.build()


def test_the_commands_carry_mlflows_flag_names():
    for command in ("server", "ui"):
        done = subprocess.run(
            [sys.executable, "-m", "pack.cli", command, "--help"], capture_output=True, text=True, check=True
        )
        for flag in (
            "--backend-store-uri",
            "--default-artifact-root",
            "--artifacts-destination",
            "--serve-artifacts",
            "--host",
            "--port",
            "--workers",
            "--allowed-hosts",
            "--cors-allowed-origins",
            "--auth",
        ):
            assert flag in done.stdout, (command, flag)
    busy = subprocess.run(
        [sys.executable, "-m", "pack.cli", "server", "-h", "203.0.113.9", "-p", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert busy.returncode == 2 and busy.stderr.startswith("error: cannot listen on 203.0.113.9:1")


def test_an_open_server_without_auth_says_so(tmp_path):
    store = ["--backend-store-uri", f"sqlite:///{tmp_path}/pack.db", "--default-artifact-root", str(tmp_path / "a")]
    said = {}
    cases = {"open": ["-h", "0.0.0.0"], "loopback": [], "open with auth": ["-h", "0.0.0.0", "--auth"]}
    for name, args in cases.items():
        server = TrackingServerProcess([*store, *args], tmp_path / f"{name}.log")
        server.stop()
        said[name] = "--auth is off: anyone who can reach this port" in server.output
    assert said == {"open": True, "loopback": False, "open with auth": False}
