"""Helpers shared by the registry, tracking and CLI tests: a real model, a real PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.services import skip_without


def train_model_dir(path: Path) -> tuple[Path, Any, Any]:
    """Train a small classifier on iris and save it as a pack model; ``(dir, model, X)``."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import pack

    features, labels = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    pack.save_model(model, path, input_example=features.head(3))
    return path, model, features


def postgres_base_uri() -> Iterator[str]:
    """A PostgreSQL URI: ``PACK_TEST_POSTGRES_URI``, else a private cluster started here, else skip."""
    skip_without("postgres")
    uri = os.environ.get("PACK_TEST_POSTGRES_URI")
    if uri:
        yield uri
        return
    from devtools.postgres import start_cluster

    try:
        cluster = start_cluster()
    except Exception as exc:
        pytest.skip(f"no PostgreSQL: set PACK_TEST_POSTGRES_URI or install postgresql ({exc})")
    try:
        yield cluster.uri
    finally:
        cluster.stop()


@contextmanager
def postgres_schema(base_uri: str) -> Iterator[str]:
    """A fresh, empty schema in the test database; the URI that uses it (dropped afterwards)."""
    import sqlalchemy

    from pack.store.sql.database import create_engine_for

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine_for(base_uri)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base_uri else "?"
    try:
        yield f"{base_uri}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        from pack.registry.default import process_default

        process_default().reset()
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
