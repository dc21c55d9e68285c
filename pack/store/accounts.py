"""Who may use ``pack server --auth``: users (a global role, a password hash) and their API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class User:
    """A user of ``pack server --auth``: a global role and the hash of the password (never the password)."""

    username: str
    role: str
    password_hash: str = field(repr=False)
    creation_time: int = 0


@dataclass(frozen=True)
class ApiToken:
    """A bearer token of a user (only its sha256 is stored; the token is shown once, at creation)."""

    token_id: int
    username: str
    name: str
    creation_time: int


__all__ = ["ApiToken", "User"]
