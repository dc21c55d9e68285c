"""Users and API tokens of ``pack server --auth`` in the SQL store (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from pack.errors import AlreadyExists, NotFound
from pack.store.sql import Database, SqlAuthStore


@pytest.fixture
def store(db_uri):
    db = Database(db_uri)
    yield SqlAuthStore(db)
    db.dispose()


def test_users_roles_and_tokens(store):
    alice = store.create_user("alice", "hash-1", "editor")
    assert (alice.username, alice.role, alice.password_hash) == ("alice", "editor", "hash-1")
    assert "hash-1" not in repr(alice)
    with pytest.raises(AlreadyExists):
        store.create_user("alice", "x", "reader")
    store.create_user("bob", "hash-2", "reader")
    assert [u.username for u in store.list_users()] == ["alice", "bob"]
    assert store.update_user("alice", role="admin").role == "admin"
    assert store.update_user("alice", password_hash="hash-3").password_hash == "hash-3"
    with pytest.raises(NotFound):
        store.update_user("carol", role="admin")

    token = store.create_token("alice", "f" * 64, "ci")
    assert (token.username, token.name) == ("alice", "ci")
    assert store.user_for_token("f" * 64).username == "alice"
    assert store.user_for_token("0" * 64) is None
    assert [t.token_id for t in store.list_tokens("alice")] == [token.token_id]
    assert store.list_tokens("bob") == []
    store.delete_token(token.token_id)
    assert store.user_for_token("f" * 64) is None
    with pytest.raises(NotFound):
        store.delete_token(token.token_id)

    store.create_token("bob", "e" * 64, "laptop")
    store.delete_user("bob")
    assert store.user_for_token("e" * 64) is None
    with pytest.raises(NotFound):
        store.get_user("bob")
