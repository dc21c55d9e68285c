"""Store fixtures (shared with the registry tests), and the tracking servers of the contract tests."""

from tests.store.backends import mlflow_tracking_server, pack_tracking_server
from tests.store_fixtures import client, db_uri, model_dir, postgres_uri, settings, trained

__all__ = [
    "client",
    "db_uri",
    "mlflow_tracking_server",
    "model_dir",
    "pack_tracking_server",
    "postgres_uri",
    "settings",
    "trained",
]
