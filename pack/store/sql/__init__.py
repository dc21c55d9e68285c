"""The SQL stores (SQLite, PostgreSQL; SQLAlchemy Core + Alembic migrations).

``SqlTrackingStore`` (experiments and runs) and ``SqlRegistryStore`` (registered models and versions)
implement ``pack.store.TrackingStore`` and ``pack.store.RegistryStore``, ``SqlAuthStore`` (users and tokens of
``pack server --auth``) ``pack.store.AuthStore``; all may share one ``Database``.
"""

from pack.store.sql.database import HEAD, REVISIONS, Database
from pack.store.sql.registry import SqlRegistryStore
from pack.store.sql.tracking import SqlTrackingStore
from pack.store.sql.users import SqlAuthStore

__all__ = ["HEAD", "REVISIONS", "Database", "SqlAuthStore", "SqlRegistryStore", "SqlTrackingStore"]
