"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.services import SERVICES, chromium_path

# A test taking one of these fixtures needs that service and carries its marker, so CI can run exactly those
# tests once the services are up (``pytest -m "docker or postgres or browser"``).
SERVICE_FIXTURES = {"docker_client": "docker", "postgres_uri": "postgres", "chromium": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the services its fixtures need."""
    assert set(SERVICE_FIXTURES.values()) == set(SERVICES)
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & SERVICE_FIXTURES.keys():
            item.add_marker(SERVICE_FIXTURES[fixture])


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
