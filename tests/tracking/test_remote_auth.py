"""pack's client against ``pack server --auth``: HTTP basic credentials and bearer tokens from the
``PACK_``/``MLFLOW_TRACKING_*`` variables, and one-line errors for missing, wrong or too weak ones."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.cli import run_pack
from devtools.tracking_servers import PACK, TrackingServer
from pack.errors import RegistryError
from pack.refs import ModelRef
from tests.store.backends import server_services

pytestmark = pytest.mark.slow


def _admin(root: Path, *args: str) -> str:
    """``pack server --backend-store-uri <root's db> ARGS`` (users and tokens)."""
    command = [sys.executable, "-c", "from pack.cli.main import main; main()", "server"]
    done = subprocess.run(
        [*command, "--backend-store-uri", f"sqlite:///{root}/{PACK}.db", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrackingServer, str]]:
    """A ``pack server --auth`` with users alice (editor, password ``alice-pw``) and bob (reader, a token)."""
    root = tmp_path_factory.mktemp("auth-server")
    _admin(root, "users", "add", "alice", "--role", "editor", "--password", "alice-pw")
    _admin(root, "users", "add", "bob", "--role", "reader", "--password", "bob-pw")
    token = _admin(root, "tokens", "create", "--user", "bob").splitlines()[-1]
    server = TrackingServer(PACK, root, args=("--auth",))
    try:
        yield server, token
    finally:
        server.stop()


def test_basic_credentials_and_tokens(auth_server, tmp_path, trained):
    server, token = auth_server
    model_dir = trained[0]
    name = f"auth-{uuid.uuid4().hex[:8]}"
    with server_services(server.url, tmp_path, tracking_username="alice", tracking_password="alice-pw") as alice:
        run = alice.tracking.create_run("0", user_id="alice")
        alice.tracking.log_param(run.info.run_id, "lr", "0.1")
        alice.registry.register_model(str(model_dir), name)
    with server_services(server.url, tmp_path, tracking_token=token) as bob:  # a reader: reads, cannot write
        assert bob.tracking.get_run(run.info.run_id).data.params == {"lr": "0.1"}
        assert bob.registry.resolve_path(ModelRef.parse(f"models:/{name}/1")).is_dir()
        with pytest.raises(RegistryError, match="403"):
            bob.tracking.log_param(run.info.run_id, "lr2", "0.2")
    wrong = {"tracking_username": "alice", "tracking_password": "wrong"}
    with server_services(server.url, tmp_path, **wrong) as intruder, pytest.raises(RegistryError, match="401"):
        intruder.tracking.get_run(run.info.run_id)
    with server_services(server.url, tmp_path) as anonymous, pytest.raises(RegistryError, match="401"):
        anonymous.tracking.get_run(run.info.run_id)


@pytest.mark.parametrize(
    ("env", "code"),
    [
        ({"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "alice-pw"}, 0),
        ({"PACK_TRACKING_USERNAME": "alice", "PACK_TRACKING_PASSWORD": "nope"}, 1),
        ({}, 1),
    ],
)
def test_the_console_script_sends_credentials_from_the_environment(auth_server, env, code):
    server, _ = auth_server
    result = run_pack("experiments", "list", env={"PACK_TRACKING_URI": server.url, "PACK_HTTP_MAX_RETRIES": "0", **env})
    assert result.returncode == code, result.stderr
    if code:
        assert result.stderr.startswith("error: ") and "401" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_bearer_token_from_mlflow_tracking_token(auth_server):
    server, token = auth_server
    result = run_pack("experiments", "list", env={"PACK_TRACKING_URI": server.url, "MLFLOW_TRACKING_TOKEN": token})
    assert result.returncode == 0, result.stderr
    assert "Default" in result.stdout
