"""Fixtures of the tracking server tests: PostgreSQL, a moto S3 server, the MLflow peer."""

from tests.store.artifacts.test_fsspec_store import s3_endpoint
from tests.store_fixtures import model_dir, postgres_uri, trained

__all__ = ["model_dir", "postgres_uri", "s3_endpoint", "trained"]
