"""Registry fixtures (shared with the store tests)."""

from tests.store_fixtures import client, db_uri, model_dir, postgres_uri, settings, trained

__all__ = ["client", "db_uri", "model_dir", "postgres_uri", "settings", "trained"]
