"""Fixtures of the deployment tests: model versions, a registry, the Docker engine, an image registry."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.builders import save_forest
from devtools.cli import run_pack
from tests.builders.conftest import cache_dir, image_tags, timings

__all__ = ["cache_dir", "image_tags", "timings"]  # the builders' fixtures, shared

MODEL = "RandomForestClassifier"


@pytest.fixture(scope="session")
def forests(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two versions of the reference RandomForest (seeds 0 and 1); ``<dir>-rows.json`` holds 25 rows."""
    root = tmp_path_factory.mktemp("forests")
    return save_forest(root / "v1", seed=0), save_forest(root / "v2", seed=1)


@pytest.fixture(scope="session")
def rows_file(forests: tuple[Path, Path]) -> Path:
    return forests[0].parent / "v1-rows.json"


def pack_ok(*args: str, env: dict[str, str], timeout: float = 1800) -> str:
    """Run ``pack ARGS`` and return its stdout; fail with its stderr."""
    done = run_pack(*args, env=env, timeout=timeout)
    assert done.returncode == 0, f"pack {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.fixture
def registry_env(tmp_path: Path, cache_dir: Path) -> dict[str, str]:
    """A fresh tracking/registry database and artifact root for one test (plus the engine and caches)."""
    return {
        "PACK_TRACKING_URI": f"sqlite:///{tmp_path}/pack.db",
        "PACK_DEFAULT_ARTIFACT_ROOT": str(tmp_path / "packruns"),
        "PACK_CACHE_DIR": str(cache_dir),
        "DOCKER_HOST": os.environ.get("DOCKER_HOST", ""),
    }


def register(env: dict[str, str], path: Path, promote: bool = True) -> None:
    """Register ``path`` as the next version of the model and (by default) promote it to Production."""
    out = pack_ok("models", "register", str(path), MODEL, env=env)
    version = out.split("version ")[-1].split()[0].strip(".")
    if promote:
        pack_ok("models", "transition", MODEL, version, "Production", "--archive-existing", env=env)


@pytest.fixture
def docker_deployments(docker_client: Any, image_tags: list[str]) -> Iterator[list[str]]:
    """Names of deployments a test makes; whatever is left of them is removed afterwards (with their images)."""
    import docker

    made: list[str] = []
    before = {image.id for image in docker_client.images.list()}
    yield made
    for image in docker_client.images.list():  # images the deployments built (kept as cache until the end)
        if image.id not in before and image.tags and all(tag.startswith("pack/") for tag in image.tags):
            image_tags.extend(image.tags)
    for name in made:
        for container in docker_client.containers.list(all=True, filters={"label": f"pack.deployment.name={name}"}):
            image_tags.extend(container.image.tags)
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
        for network in docker_client.networks.list(filters={"label": f"pack.deployment.name={name}"}):
            with contextlib.suppress(docker.errors.APIError):
                network.remove()


@pytest.fixture(scope="session")
def image_registry() -> str:
    """``127.0.0.1:PORT`` of the registry ``.ci/services/registry.sh`` started (PACK_TEST_REGISTRY)."""
    from devtools.registry import answers

    address = os.environ.get("PACK_TEST_REGISTRY")
    if not address:
        pytest.skip("PACK_TEST_REGISTRY is not set (.ci/services/registry.sh starts a registry)")
    if not answers(address):
        pytest.skip(f"no registry answers at {address}")
    return address
