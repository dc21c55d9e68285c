"""The SQL registry store: registered models (``model_store``) plus their versions (``version_store``).

Persistence only: what is *allowed* (names, stages, READY-only promotion) is decided in
``pack.registry.service``. Each method is one transaction; changes to one model are serialised by
touching its row first (``rows.lock_model``), and each stage or alias change writes its history
event in the same transaction.
"""

from __future__ import annotations

from pack.registry.sql.database import Database
from pack.registry.sql.model_store import SqlModelStore
from pack.registry.sql.version_store import SqlVersionStore


class SqlRegistryStore(SqlModelStore, SqlVersionStore):
    """Implements ``pack.registry.store.RegistryStore`` on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self.db = db


__all__ = ["SqlRegistryStore"]
