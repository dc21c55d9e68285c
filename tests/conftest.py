"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


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
