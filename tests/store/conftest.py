"""Store fixtures (shared with the registry tests)."""

from tests.store_fixtures import client, db_uri, model_dir, postgres_uri, settings, trained

__all__ = ["client", "db_uri", "model_dir", "postgres_uri", "settings", "trained"]
