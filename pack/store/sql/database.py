"""Engines, transactions and the schema check: one connection and one transaction per operation.

SQLite runs in WAL mode with a 30 s busy timeout; write transactions start with ``BEGIN IMMEDIATE``
so concurrent writers queue for the lock instead of failing when a read turns into a write.
PostgreSQL ``postgresql://`` URIs use psycopg 3.

The schema is brought to the newest migration on first use (``ensure_schema``), under a lock
(SQLite: the write lock; PostgreSQL: an advisory lock), so concurrent first users migrate once. A
database whose revision this code does not know (a newer pack migrated it) is refused, never
downgraded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from pack.errors import InvalidInput, RegistryError

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Every migration revision, oldest first; a test checks this against the scripts in MIGRATIONS_DIR.
REVISIONS = ("0001_initial", "0002_logged_models_auth")
HEAD = REVISIONS[-1]
_ADVISORY_LOCK = 0x7061636B  # "pack"
_RETRIES = 5


class Database:
    """A lazily opened engine: ``read`` for consistent reads, ``transact`` for every write."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The engine, created and migrated on first use."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = create_engine_for(self.uri)
                    try:
                        ensure_schema(engine)
                    except BaseException:
                        engine.dispose()
                        raise
                    self._engine = engine
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot), rolled back at the end."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise RegistryError(f"database error: {_first_line(exc)}") from exc

    def transact(self, operation: Callable[[Connection], T]) -> T:
        """Run ``operation`` in a write transaction: the one path every write takes.

        The transaction is committed if ``operation`` returns, rolled back if it raises, and run again
        (a few times, with a short backoff) on transient conflicts: SQLite still locked after its busy
        timeout, PostgreSQL serialization failures and deadlocks. ``operation`` must therefore have no
        effect outside the connection. ``IntegrityError`` propagates unchanged (callers turn it into
        ``AlreadyExists``); other database errors become ``RegistryError``.
        """
        for attempt in range(_RETRIES):
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(pack_write=True)
                    with conn.begin():
                        return operation(conn)
            except IntegrityError:
                raise
            except DBAPIError as exc:
                if not _transient(exc) or attempt == _RETRIES - 1:
                    raise RegistryError(f"database error: {_first_line(exc)}") from exc
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        """Close pooled connections (the engine is recreated on next use)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def create_engine_for(uri: str) -> Engine:
    """An engine for ``sqlite:///...`` or ``postgresql://...`` with pack's connection settings.

    Raises:
        InvalidInput: the URI is malformed or names an unsupported database.
        RegistryError: the database driver is missing.
    """
    try:
        url = make_url(uri)
    except ArgumentError:
        raise InvalidInput(f"not a database URI: {uri!r} (use sqlite:///file.db or postgresql://...)") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        try:
            return _sqlite_engine(url)
        except NoSuchModuleError:
            raise InvalidInput(f"unsupported SQLite driver in {uri!r} (use sqlite:///file.db)") from None
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        try:
            return create_engine(url, pool_pre_ping=True)
        except (ImportError, NoSuchModuleError):
            raise RegistryError("the PostgreSQL driver is missing: pip install 'pack[postgres]'") from None
    raise InvalidInput(f"unsupported database {backend!r} in {uri!r} (use sqlite or postgresql)")


def _sqlite_engine(url: Any) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA case_sensitive_like=ON")  # LIKE as on PostgreSQL; ILIKE ignores case
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("pack_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def current_revision(conn: Connection) -> str | None:
    """The schema revision recorded in the database (None: never migrated)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def ensure_schema(engine: Engine) -> None:
    """Migrate the database to ``HEAD`` if it is older; refuse one that is newer.

    Raises:
        RegistryError: the database was migrated by a newer pack, or cannot be reached.
    """
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
        if revision == HEAD:
            return
        _check_known(revision, engine)
        with engine.connect() as conn:
            conn.execution_options(pack_write=True)
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
                revision = current_revision(conn)  # again, now that we hold the lock
                if revision == HEAD:
                    return
                _check_known(revision, engine)
                _run_migrations(conn)
    except OperationalError as exc:
        raise RegistryError(f"cannot open the database {_safe_url(engine)}: {_first_line(exc)}") from exc


def _check_known(revision: str | None, engine: Engine) -> None:
    if revision is not None and revision not in REVISIONS:
        raise RegistryError(
            f"the database {_safe_url(engine)} has schema revision {revision!r}, which this pack does "
            f"not know (newest known: {HEAD!r}); it was migrated by a newer pack: upgrade pack"
        )


def _run_migrations(conn: Connection) -> None:
    from alembic import command  # lazy: alembic only when a database needs migrating
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, HEAD)


def _transient(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(
        marker in message
        for marker in ("database is locked", "could not serialize", "deadlock detected", "database is busy")
    )


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


__all__ = ["HEAD", "MIGRATIONS_DIR", "REVISIONS", "Database", "create_engine_for", "current_revision"]
