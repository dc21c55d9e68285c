"""``SqlAuthStore``: users (a global role, a password hash) and their API tokens (sha256 only).

Persistence only: hashing passwords and deciding what a role may do is ``pack.server.auth``'s job.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from pack.errors import AlreadyExists, NotFound
from pack.store.accounts import ApiToken, User
from pack.store.entities import now_ms
from pack.store.sql.database import Database
from pack.store.sql.tables import api_tokens, users

_BY_TOKEN = select(users).join_from(api_tokens, users, api_tokens.c.user_id == users.c.id)


class SqlAuthStore:
    """Implements ``pack.store.AuthStore`` on SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_user(self, username: str, password_hash: str, role: str) -> User:
        """Add a user.

        Raises:
            AlreadyExists: the name is taken.
        """
        values = {"username": username, "password_hash": password_hash, "role": role, "creation_time": now_ms()}
        try:
            self.db.transact(lambda conn: conn.execute(insert(users).values(**values)))
        except IntegrityError:
            raise AlreadyExists(f"user {username!r} already exists") from None
        return self.get_user(username)

    def get_user(self, username: str) -> User:
        """One user.

        Raises:
            NotFound: no such user.
        """
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            raise NotFound(f"user {username!r} not found")
        return _to_user(row)

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self.db.read() as conn:
            return [_to_user(row) for row in conn.execute(select(users).order_by(users.c.username))]

    def update_user(self, username: str, *, role: str | None = None, password_hash: str | None = None) -> User:
        """Change a user's role and/or password hash.

        Raises:
            NotFound: no such user.
        """
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = role
        if password_hash is not None:
            values["password_hash"] = password_hash

        def write(conn: Connection) -> None:
            if not conn.execute(update(users).where(users.c.username == username).values(**values)).rowcount:
                raise NotFound(f"user {username!r} not found")

        if values:
            self.db.transact(write)
        return self.get_user(username)

    def delete_user(self, username: str) -> None:
        """Remove a user and their tokens.

        Raises:
            NotFound: no such user.
        """

        def write(conn: Connection) -> None:
            found = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
            if found is None:
                raise NotFound(f"user {username!r} not found")
            conn.execute(delete(api_tokens).where(api_tokens.c.user_id == found))
            conn.execute(delete(users).where(users.c.id == found))

        self.db.transact(write)

    def create_token(self, username: str, token_hash: str, name: str) -> ApiToken:
        """Record a token (by its sha256) for a user.

        Raises:
            NotFound: no such user.
        """

        def write(conn: Connection) -> ApiToken:
            found = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
            if found is None:
                raise NotFound(f"user {username!r} not found")
            created = now_ms()
            token_id = conn.execute(
                insert(api_tokens)
                .values(user_id=found, token_hash=token_hash, name=name, creation_time=created)
                .returning(api_tokens.c.id)
            ).scalar_one()
            return ApiToken(int(token_id), username, name, created)

        return self.db.transact(write)

    def user_for_token(self, token_hash: str) -> User | None:
        """The user a token (given by its sha256) belongs to, or None."""
        with self.db.read() as conn:
            row = conn.execute(_BY_TOKEN.where(api_tokens.c.token_hash == token_hash)).first()
        return None if row is None else _to_user(row)

    def list_tokens(self, username: str | None = None) -> list[ApiToken]:
        """Tokens (never their values) of one user or of everyone."""
        statement = select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.creation_time, users.c.username).join_from(
            api_tokens, users, api_tokens.c.user_id == users.c.id
        )
        if username is not None:
            statement = statement.where(users.c.username == username)
        with self.db.read() as conn:
            found = conn.execute(statement.order_by(api_tokens.c.id)).all()
        return [ApiToken(int(r.id), r.username, r.name, int(r.creation_time)) for r in found]

    def delete_token(self, token_id: int) -> None:
        """Revoke a token.

        Raises:
            NotFound: no such token.
        """

        def write(conn: Connection) -> None:
            if not conn.execute(delete(api_tokens).where(api_tokens.c.id == token_id)).rowcount:
                raise NotFound(f"token {token_id} not found")

        self.db.transact(write)


def _to_user(row: Row[Any]) -> User:
    return User(row.username, row.role, row.password_hash, int(row.creation_time))


__all__ = ["SqlAuthStore"]
