"""The SQL stores (SQLite, PostgreSQL; SQLAlchemy Core + Alembic migrations).

``SqlTrackingStore`` (experiments and runs) and ``SqlRegistryStore`` (registered models and versions)
implement ``pack.store.TrackingStore`` and ``pack.store.RegistryStore``; both may share one ``Database``.
"""

from pack.store.sql.database import HEAD, REVISIONS, Database
from pack.store.sql.registry import SqlRegistryStore
from pack.store.sql.tracking import SqlTrackingStore

__all__ = ["HEAD", "REVISIONS", "Database", "SqlRegistryStore", "SqlTrackingStore"]
