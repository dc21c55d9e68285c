"""Fixtures shared by every test package, the test tiers and the service markers.

Tiers: ``pytest -m "not slow"`` is the fast tier (everything in-process: no server, engine, database
server, subprocess or peer virtualenv; CLI paths through click's ``CliRunner``); ``pytest`` runs
everything. Tests are marked ``slow`` here, centrally: by the fixtures they use (``SLOW_FIXTURES``, the
PostgreSQL parameter of ``db_uri``), by what their body calls (``SUBPROCESS_CALLS``), or by module
(``SLOW_MODULES``, whose helpers start processes); ``interop`` when they need MLflow's virtualenv.

Services: a test taking ``docker_client``, ``postgres_uri`` or ``chromium`` is marked ``docker``,
``postgres`` or ``browser``, so CI can run exactly those once the services are up (tests/services.py).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.services import SERVICES, chromium_path, skip_without
from tests.store.backends import mlflow_tracking_server, pack_tracking_server, tracking_server

__all__ = ["mlflow_tracking_server", "pack_tracking_server", "tracking_server"]  # tracking servers, one per session

# Fixtures that start something outside the test process or reach an external service.
SLOW_FIXTURES = frozenset(
    {
        "mlflow_python",  # MLflow's virtualenv (created and cached on first use)
        "postgres_uri",  # a PostgreSQL server
        "docker_client",  # a Docker engine
        "base_image",
        "chromium",  # a browser
        "start_server",  # pack serve in a subprocess
        "rf_server",
        "multi_server",
        "dl_served",
        "s3_endpoint",  # a moto S3 server in a subprocess
        "cache_dir",  # the wheel cache: pip builds and downloads wheels
        "pack_tracking_server",  # tracking servers in subprocesses (tests/store/backends.py)
        "mlflow_tracking_server",
        "tracking_server",
    }
)
# Parameter values naming a backend outside the test process: a PostgreSQL server (``db_uri``, ``backend``)
# or a tracking server in a subprocess (tests/store/backends.py).
SLOW_PARAMS = frozenset({"postgresql", "pack", "mlflow"})
# Names a test body uses to start a process: the pack console script, a fresh interpreter.
SUBPROCESS_CALLS = frozenset({"run_pack", "pack_run", "subprocess", "predict_in_fresh_process"})
INTEROP_FIXTURES = frozenset({"mlflow_python"})
SERVICE_FIXTURES = {"docker_client": "docker", "postgres_uri": "postgres", "chromium": "browser"}
# Modules whose tests run the pack console script or a fresh interpreter (subprocesses).
SLOW_MODULES = frozenset(
    {
        "tests/examples/test_quickstart.py",
        "tests/flavors/test_lazy_frameworks.py",
        "tests/test_imports.py",
        "tests/test_layers.py",
        "tests/tracking/test_lazy_exports.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``slow``, ``interop`` and service tests by the fixtures they use and the modules they are in."""
    assert set(SERVICE_FIXTURES.values()) == set(SERVICES)
    root = config.rootpath
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        module = item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""
        function = getattr(item, "function", None)
        calls = set(getattr(getattr(function, "__code__", None), "co_names", ()))
        if (
            fixtures & SLOW_FIXTURES
            or any(isinstance(value, str) and value in SLOW_PARAMS for value in params.values())
            or module in SLOW_MODULES
            or calls & SUBPROCESS_CALLS
        ):
            item.add_marker(pytest.mark.slow)
        if fixtures & INTEROP_FIXTURES:
            item.add_marker(pytest.mark.interop)
        for fixture in fixtures & SERVICE_FIXTURES.keys():
            item.add_marker(SERVICE_FIXTURES[fixture])
        if params.get("db_uri") == "postgresql":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A client of a real engine (DOCKER_HOST or the default socket); skips when none can be reached."""
    from pack.builders.engines import docker_client as connect
    from pack.errors import BuildError

    skip_without("docker")

    try:
        client = connect()
    except BuildError as exc:
        pytest.skip(f"no Docker engine ({exc}); .ci/services/docker.sh starts one")
    images_before = {image.id for image in client.images.list(all=True)}
    containers_before = {container.id for container in client.containers.list(all=True)}
    yield client
    _remove_leftovers(client, images_before, containers_before)
    client.close()


def _remove_leftovers(client: Any, images_before: set[str], containers_before: set[str]) -> None:
    """Bound the engine's disk across runs: containers and tagged images this session made go, and so does
    the untagged build cache of earlier sessions (this session's stays, as the next run's layer cache)."""
    import docker

    base = os.environ.get("PACK_TEST_BASE_IMAGE")
    for container in client.containers.list(all=True):
        if container.id not in containers_before:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
    for image in client.images.list(all=True):
        made_now = image.id not in images_before
        if base in image.tags or made_now != bool(image.tags):
            continue
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(image.id, force=True)


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """The base image the tests build on (no registry can be pulled from here)."""
    name = os.environ.get("PACK_TEST_BASE_IMAGE")
    if not name:
        pytest.skip("PACK_TEST_BASE_IMAGE is not set (.ci/services/docker.sh imports a debootstrap image)")
    import docker

    try:
        docker_client.images.get(name)
    except docker.errors.ImageNotFound:
        pytest.skip(f"base image {name} is not in the engine")
    return name


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium for playwright's ``executable_path`` (skips without it)."""
    return chromium_path()


@pytest.fixture(scope="session")
def classification_data():
    """A 10-feature binary classification table (DataFrame, labels)."""
    import pandas as pd
    from sklearn.datasets import make_classification

    features, labels = make_classification(n_samples=400, n_features=10, random_state=0)
    return pd.DataFrame(features, columns=[f"f{i}" for i in range(10)]), labels


@pytest.fixture(scope="session")
def random_forest(classification_data):
    """A RandomForestClassifier fit on named columns."""
    from sklearn.ensemble import RandomForestClassifier

    frame, labels = classification_data
    return RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(frame, labels)


# Deep-learning models (tests/models_*.py), trained once per session; skipped without their framework.


@pytest.fixture(scope="session")
def torch_mlp():
    """A trained MLP: float32 [N, 4] -> [N, 2]."""
    pytest.importorskip("torch")
    from tests.models_torch import make_mlp

    return make_mlp()


@pytest.fixture(scope="session")
def torch_cnn():
    """A trained tiny CNN: images float32 [N, 1, 8, 8] -> [N, 3]."""
    pytest.importorskip("torch")
    from tests.models_torch import make_cnn

    return make_cnn()


@pytest.fixture(scope="session")
def torch_towers():
    """Two named inputs and two named outputs (``TwoTowers``)."""
    pytest.importorskip("torch")
    from tests.models_torch import make_towers

    return make_towers()


@pytest.fixture(scope="session")
def keras_mlp():
    """A trained Keras 3 model: input ``features`` float32 [N, 4] -> [N, 2]."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("keras")
    from tests.models_keras import make_mlp

    return make_mlp()


@pytest.fixture(scope="session")
def mlflow_python() -> Path:
    """The python of MLflow's own virtualenv (created and cached on first use)."""
    if os.environ.get("PACK_SKIP_INTEROP"):
        pytest.skip("PACK_SKIP_INTEROP is set")
    from devtools.mlflow_peer import mlflow_python as create

    try:
        return create()
    except subprocess.CalledProcessError as exc:  # no PyPI access: cannot build the peer
        pytest.skip(f"cannot create the MLflow virtualenv: {exc}")
