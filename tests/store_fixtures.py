"""Fixtures of the store, registry and tracking tests: every store test runs on SQLite and on a real
PostgreSQL server (imported by the conftest of each of those test packages)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pack.registry.default import process_default
from pack.registry.settings import RegistrySettings as Settings
from tests.registry.support import postgres_base_uri, postgres_schema, train_model_dir


@pytest.fixture(scope="session")
def postgres_uri() -> Iterator[str]:
    yield from postgres_base_uri()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/pack.db"
        process_default().reset()
        return
    with postgres_schema(request.getfixturevalue("postgres_uri")) as uri:
        yield uri


@pytest.fixture
def settings(db_uri: str, tmp_path: Path) -> Settings:
    return Settings(
        tracking_uri=db_uri,
        default_artifact_root=str(tmp_path / "artifacts"),
        cache_dir=str(tmp_path / "cache"),
        user="alice",
    )


@pytest.fixture
def client(settings: Settings) -> Any:
    from pack.tracking import Client

    return Client(settings=settings)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    """(model directory, estimator, features): never modify the directory."""
    return train_model_dir(tmp_path_factory.mktemp("model") / "iris")


@pytest.fixture
def model_dir(trained: tuple[Path, Any, Any]) -> Path:
    return trained[0]
