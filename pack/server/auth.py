"""Access control of ``pack server --auth``: users with a global role, passwords hashed with argon2
(``argon2-cffi``), API tokens stored as their sha256, HTTP basic and bearer credentials.

Roles: ``reader`` reads everything; ``editor`` also logs runs and registers versions; ``admin`` also
moves stages and aliases, deletes, and manages users. A verified password is remembered in memory
(keyed by a per-process HMAC of the credentials and the stored hash), so only a new password or a
changed user costs an argon2 verification; the user's role is read afresh on every request.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from typing import Any

from pack.errors import InvalidInput, MissingDependency, NotFound
from pack.server.api import Access
from pack.server.errors import PermissionDenied, Unauthenticated
from pack.store import ApiToken, AuthStore, User

TOKEN_PREFIX = "pack_"
_CACHE_SIZE = 4096


class Role(str, enum.Enum):
    """A user's global role."""

    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: str) -> Role:
        """The role named ``value``.

        Raises:
            InvalidInput: no such role.
        """
        try:
            return cls(value.lower())
        except ValueError:
            raise InvalidInput(f"unknown role {value!r} (roles: reader, editor, admin)") from None

    @property
    def access(self) -> Access:
        """The most this role may do."""
        return {Role.READER: Access.READ, Role.EDITOR: Access.EDIT, Role.ADMIN: Access.ADMIN}[self]


def token_hash(token: str) -> str:
    """How a token is stored and looked up (tokens are random, so a plain sha256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    """Managing users and tokens (the ``pack server users|tokens`` commands)."""

    def __init__(self, store: AuthStore) -> None:
        self.store = store

    def add(self, username: str, password: str, role: str) -> User:
        """Create a user.

        Raises:
            InvalidInput: an empty name or password, or an unknown role. AlreadyExists: the name is taken.
        """
        if not username.strip() or ":" in username:
            raise InvalidInput("a user name must be non-empty and must not contain ':'")
        if not password:
            raise InvalidInput("a password is required")
        return self.store.create_user(username, hash_password(password), Role.parse(role).value)

    def set_role(self, username: str, role: str) -> User:
        """Change a user's role."""
        return self.store.update_user(username, role=Role.parse(role).value)

    def set_password(self, username: str, password: str) -> User:
        """Change a user's password."""
        if not password:
            raise InvalidInput("a password is required")
        return self.store.update_user(username, password_hash=hash_password(password))

    def remove(self, username: str) -> None:
        """Delete a user and their tokens."""
        self.store.delete_user(username)

    def create_token(self, username: str, name: str = "token") -> tuple[str, ApiToken]:
        """A new bearer token for a user: the token (shown once, never stored) and its record."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return token, self.store.create_token(username, token_hash(token), name)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``.

    Raises:
        MissingDependency: argon2-cffi is not installed (``pip install 'pack[server]'``).
    """
    return str(password_hasher().hash(password))


def password_hasher() -> Any:
    """argon2's ``PasswordHasher`` (its defaults: argon2id, 64 MiB, 3 passes).

    Raises:
        MissingDependency: argon2-cffi is not installed.
    """
    try:
        from argon2 import PasswordHasher
    except ImportError:
        raise MissingDependency("argon2-cffi", "server") from None
    return PasswordHasher()


class Authenticator:
    """Turns an ``Authorization`` header into a user, and checks what the user's role allows."""

    def __init__(self, store: AuthStore) -> None:
        password_hasher()  # fail at start, not at the first request, when argon2-cffi is missing
        self.store = store
        self._key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()
        self._decoy_hash: str | None = None

    def authenticate(self, authorization: str | None) -> User:
        """The user the credentials belong to.

        Raises:
            Unauthenticated: no credentials, or wrong ones.
        """
        if not authorization:
            raise Unauthenticated("authentication required (HTTP basic: a user and password, or a bearer token)")
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value:
            user = self.store.user_for_token(token_hash(value.strip()))
            if user is None:
                raise Unauthenticated("invalid or revoked token")
            return user
        if scheme.lower() == "basic" and value:
            return self._basic(value.strip())
        raise Unauthenticated("unsupported authorization scheme (use Basic or Bearer)")

    def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = hash_password(secrets.token_urlsafe(16))
        return self._decoy_hash

    def _basic(self, encoded: str) -> User:
        try:
            username, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed basic credentials") from None
        if not sep:
            raise Unauthenticated("malformed basic credentials")
        try:
            user = self.store.get_user(username)
        except NotFound:  # the same answer, and about the same time, as a wrong password
            _verify(self._decoy(), password)
            raise Unauthenticated("invalid user name or password") from None
        key = hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            if self._verified.get(key) == user.password_hash:
                self._verified.move_to_end(key)
                return user
        if not _verify(user.password_hash, password):
            raise Unauthenticated("invalid user name or password")
        with self._lock:
            self._verified[key] = user.password_hash
            while len(self._verified) > _CACHE_SIZE:
                self._verified.popitem(last=False)
        return user


def _verify(stored: str, password: str) -> bool:
    hasher = password_hasher()
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def authorize(user: User, needed: Access) -> None:
    """Refuse a call the user's role does not allow.

    Raises:
        PermissionDenied: the role is not enough (or unknown).
    """
    try:
        role = Role.parse(user.role)
    except InvalidInput:
        raise PermissionDenied(f"user {user.username!r} has an unknown role {user.role!r}") from None
    if role.access < needed:
        raise PermissionDenied(
            f"user {user.username!r} ({role.value}) may not do this; it needs the {_ROLE_FOR[needed].value} role"
        )


_ROLE_FOR = {Access.READ: Role.READER, Access.EDIT: Role.EDITOR, Access.ADMIN: Role.ADMIN}

__all__ = ["TOKEN_PREFIX", "Authenticator", "Role", "Users", "authorize", "hash_password", "token_hash"]
