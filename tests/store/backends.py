"""The store backends the contract tests run on: SQL (SQLite, PostgreSQL) in process, and pack's REST stores
against a real tracking server in a subprocess (``pack server``; ``mlflow server`` as a conformance check).

Servers are shared by a session, so every test names what it creates with ``Backend.name`` (unique per
test) and filters what it lists by those names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.tracking_servers import MLFLOW, PACK, TrackingServer
from pack.registry.services import Services
from pack.registry.settings import RegistrySettings

SQL = "sql"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param(PACK, id="pack-server"),
    pytest.param(MLFLOW, id="mlflow-server", marks=[pytest.mark.interop, pytest.mark.slow]),
]
SERVERS = [BACKENDS[2], BACKENDS[3]]


@dataclass
class Backend:
    """One backend for one test: its ``Services`` and how it names things."""

    kind: str
    services: Services
    artifact_root: str
    suffix: str

    @property
    def tracking(self) -> Any:
        return self.services.tracking

    @property
    def registry(self) -> Any:
        return self.services.registry

    @property
    def runs(self) -> Any:
        return self.services.runs

    @property
    def remote(self) -> bool:
        """Whether the stores talk to a tracking server."""
        return self.kind != SQL

    def name(self, base: str) -> str:
        """``base`` made unique to this test."""
        return f"{base}-{self.suffix}"

    def raises(self, error: type[BaseException], match: str | None = None) -> Any:
        """``pytest.raises``; MLflow's server words its messages its own way, so only the class counts there."""
        return pytest.raises(error, match=None if self.kind == MLFLOW else match)


def start_server(kind: str, root: Path) -> Iterator[TrackingServer]:
    """A session's tracking server of ``kind`` in a subprocess on a free port, stopped at the end."""
    server = TrackingServer(kind, root)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pack_tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackingServer]:
    yield from start_server(PACK, tmp_path_factory.mktemp("pack-server"))


@pytest.fixture(scope="session")
def mlflow_tracking_server(tmp_path_factory: pytest.TempPathFactory, mlflow_python: Path) -> Iterator[TrackingServer]:
    """``mlflow server`` (skips, as ``mlflow_python`` does, when MLflow's virtualenv cannot be made)."""
    yield from start_server(MLFLOW, tmp_path_factory.mktemp("mlflow-server"))


@pytest.fixture(params=SERVERS)
def tracking_server(request: pytest.FixtureRequest) -> TrackingServer:
    """A running tracking server: ``pack server``, and ``mlflow server`` as a conformance check."""
    server: TrackingServer = request.getfixturevalue(f"{request.param}_tracking_server")
    return server


@contextmanager
def server_services(url: str, tmp_path: Path, **settings: Any) -> Iterator[Services]:
    """``Services`` on the tracking server at ``url``, with a private download cache."""
    services = Services.from_settings(
        RegistrySettings(tracking_uri=url, cache_dir=str(tmp_path / "cache"), user="alice", **settings)
    )
    try:
        yield services
    finally:
        services.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    suffix = uuid.uuid4().hex[:8]
    if request.param in (PACK, MLFLOW):
        server = request.getfixturevalue(f"{request.param}_tracking_server")
        with server_services(server.url, tmp_path) as services:
            yield Backend(request.param, services, "mlflow-artifacts:", suffix)
        return
    if request.param == "sqlite":
        db_uri = f"sqlite:///{tmp_path}/pack.db"
    else:
        from tests.registry.support import postgres_schema

        with postgres_schema(request.getfixturevalue("postgres_uri")) as db_uri:
            yield from _sql(db_uri, tmp_path, suffix)
        return
    yield from _sql(db_uri, tmp_path, suffix)


def _sql(db_uri: str, tmp_path: Path, suffix: str) -> Iterator[Backend]:
    settings = RegistrySettings(
        tracking_uri=db_uri,
        default_artifact_root=str(tmp_path / "artifacts"),
        cache_dir=str(tmp_path / "cache"),
        user="alice",
    )
    services = Services.from_settings(settings)
    try:
        yield Backend(SQL, services, settings.default_artifact_root, suffix)
    finally:
        services.close()


__all__ = [
    "BACKENDS",
    "SERVERS",
    "Backend",
    "backend",
    "mlflow_tracking_server",
    "pack_tracking_server",
    "server_services",
    "tracking_server",
]
