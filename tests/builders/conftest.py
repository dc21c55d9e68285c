"""Fixtures for the builders: a saved RandomForest, the wheel cache, a real Docker engine and base image."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.builders import save_forest
from pack.builders.base import ModelSource

TIMINGS: dict[str, str] = {}


@pytest.fixture(scope="session")
def timings() -> dict[str, str]:
    """Figures the Docker tests measure, printed at the end of the run (reported, never asserted)."""
    return TIMINGS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the image sizes and build times the Docker tests measured (reported, never asserted)."""
    if TIMINGS:
        terminalreporter.section("builders: image sizes and build times")
        for key, value in TIMINGS.items():
            terminalreporter.write_line(f"{key}: {value}")


@pytest.fixture(scope="session")
def rf_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference model directory; ``<dir>-rows.json`` beside it holds 25 rows to score."""
    return save_forest(tmp_path_factory.mktemp("models") / "RandomForestClassifier", seed=0)


@pytest.fixture(scope="session")
def rf_source(rf_model: Path) -> ModelSource:
    return ModelSource.from_directory(rf_model)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The wheel cache (CI's cache when there is one, so downloads happen once per machine)."""
    if os.environ.get("PACK_CACHE_DIR"):
        return Path(os.environ["PACK_CACHE_DIR"])
    ci_cache = Path(os.environ.get("PACK_CI_CACHE") or Path.home() / ".cache" / "pack-ci")
    return ci_cache / "pack"


# ---- Docker ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def image_tags(docker_client: Any) -> Iterator[list[str]]:
    """Tags the tests built; removed at the end of the session (with their layers)."""
    import docker

    tags: list[str] = []
    yield tags
    for tag in tags:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.images.remove(tag, force=True)
