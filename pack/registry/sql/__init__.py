"""The SQL store (SQLite, PostgreSQL) behind tracking and the registry, with its migrations."""

from pack.registry.sql.database import HEAD, REVISIONS, Database
from pack.registry.sql.registry_store import SqlRegistryStore
from pack.registry.sql.tracking_store import SqlTrackingStore

__all__ = ["HEAD", "REVISIONS", "Database", "SqlRegistryStore", "SqlTrackingStore"]
