"""Tracking fixtures: the embedded defaults (sqlite:///pack.db, ./packruns) in a fresh directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pack.registry.default import process_default
from tests.registry.support import train_model_dir


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory with no PACK_* settings: pack uses its embedded defaults there."""
    for key in list(os.environ):
        if key.startswith("PACK_") and not key.startswith("PACK_TEST_") and key != "PACK_CI_CACHE":
            monkeypatch.delenv(key)
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / ".cache"))
    monkeypatch.chdir(tmp_path)
    process_default().reset()
    yield tmp_path
    import pack

    while pack.active_run() is not None:
        pack.end_run()
    process_default().reset()


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    return train_model_dir(tmp_path_factory.mktemp("model") / "iris")
