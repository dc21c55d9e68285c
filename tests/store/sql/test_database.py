"""Migrations on SQLite and PostgreSQL: from empty, idempotent, never downgraded, matching the tables."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from pack.errors import InvalidInput, RegistryError
from pack.store.sql.database import HEAD, MIGRATIONS_DIR, REVISIONS, Database, current_revision
from pack.store.sql.tables import metadata

TABLES = {
    "alembic_version",
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "run_tags",
    "metrics",
    "registered_models",
    "registered_model_tags",
    "model_versions",
    "model_version_tags",
    "model_version_files",
    "registered_model_aliases",
    "promotion_history",
    "logged_models",
    "logged_model_tags",
    "logged_model_params",
    "logged_model_metrics",
    "run_datasets",
    "run_models",
    "users",
    "api_tokens",
}


def test_revisions_list_matches_the_migration_scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    chain = [script.revision for script in scripts.walk_revisions()][::-1]
    assert tuple(chain) == REVISIONS
    assert scripts.get_current_head() == HEAD


def test_first_use_migrates_an_empty_database(db_uri):
    db = Database(db_uri)
    with db.read() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
        assert current_revision(conn) == HEAD
    db.dispose()


def test_migrated_schema_matches_the_table_definitions(db_uri):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(db_uri)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    db.dispose()


def test_migrating_again_is_a_no_op(db_uri):
    first = Database(db_uri)
    first.transact(
        lambda conn: conn.execute(
            text(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, last_version) "
                "VALUES ('kept', 1, 1, 0)"
            )
        )
    )
    first.dispose()
    for _ in range(2):
        again = Database(db_uri)
        with again.read() as conn:
            assert current_revision(conn) == HEAD
            assert conn.execute(text("SELECT name FROM registered_models")).scalars().all() == ["kept"]
        again.dispose()


def test_a_database_from_a_newer_pack_is_refused_not_downgraded(db_uri):
    db = Database(db_uri)
    db.transact(lambda conn: conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'")))
    db.dispose()
    newer = Database(db_uri)
    with pytest.raises(RegistryError, match=r"9999_from_the_future.*upgrade pack"):
        newer.read().__enter__()
    from pack.store.sql.database import create_engine_for

    engine = create_engine_for(db_uri)
    with engine.connect() as conn:
        assert current_revision(conn) == "9999_from_the_future"
        assert set(inspect(conn).get_table_names()) == TABLES
    engine.dispose()


@pytest.mark.parametrize("uri", ["mysql://x/y", "not a uri", "sqlite+nodriver:///x.db"])
def test_unsupported_database_uris_are_clear_errors(uri):
    with pytest.raises((InvalidInput, RegistryError)):
        Database(uri).read().__enter__()


def test_every_write_retries_transient_conflicts_and_rolls_back_the_failed_attempts(db_uri):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    db = Database(db_uri)
    attempts = []

    def write(conn):
        attempts.append(1)
        conn.execute(
            text(
                "INSERT INTO registered_models (name, creation_time, last_updated_time, last_version) "
                f"VALUES ('m{len(attempts)}', 1, 1, 0)"
            )
        )
        if len(attempts) < 3:  # what a lock conflict looks like once SQLite's busy timeout is over
            raise OperationalError("INSERT ...", None, sqlite3.OperationalError("database is locked"))
        return len(attempts)

    assert db.transact(write) == 3
    with db.read() as conn:
        assert conn.execute(text("SELECT name FROM registered_models")).scalars().all() == ["m3"]

    def always_locked(conn):
        raise OperationalError("UPDATE ...", None, sqlite3.OperationalError("database is locked"))

    with pytest.raises(RegistryError, match="database is locked"):
        db.transact(always_locked)

    def broken(conn):
        attempts.append(1)
        conn.execute(text("SELECT * FROM no_such_table"))

    before = len(attempts)
    with pytest.raises(RegistryError, match=r"no_such_table|does not exist"):
        db.transact(broken)
    assert len(attempts) == before + 1  # not transient: not retried
    db.dispose()
