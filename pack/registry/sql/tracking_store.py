"""The SQL tracking store: experiments (``experiment_store``) and runs (``run_store``)."""

from __future__ import annotations

from pack.registry.sql.database import Database
from pack.registry.sql.run_store import SqlRunStore


class SqlTrackingStore(SqlRunStore):
    """Implements ``pack.registry.store.TrackingStore`` on SQLAlchemy.

    ``artifact_root`` is where new experiments put their files (``<root>/<experiment_id>``).
    """

    def __init__(self, db: Database, artifact_root: str) -> None:
        self.db = db
        self.artifact_root = artifact_root.rstrip("/")


__all__ = ["SqlTrackingStore"]
