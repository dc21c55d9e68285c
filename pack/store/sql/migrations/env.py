"""Alembic environment for pack's store; run by ``pack.store.sql.database`` on a live connection.

New revision (developers): ``alembic -x url=sqlite:///dev.db revision -m "..."`` is not wired up;
write the script by hand in ``versions/`` (``down_revision`` = the previous one), then add its id
to ``REVISIONS`` in ``database.py``.
"""

from __future__ import annotations

from alembic import context

from pack.store.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
