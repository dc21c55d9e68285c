"""Readable run names (``brisk-otter-417``) for runs created without one, as MLflow names them."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber",
    "brisk",
    "calm",
    "deft",
    "eager",
    "fair",
    "gentle",
    "hardy",
    "keen",
    "lucid",
    "merry",
    "noble",
    "placid",
    "quick",
    "rapid",
    "sunny",
    "tidy",
    "vivid",
    "wise",
    "zesty",
)
_NOUNS = (
    "badger",
    "crane",
    "dolphin",
    "falcon",
    "gecko",
    "heron",
    "ibis",
    "jaguar",
    "koala",
    "lynx",
    "marten",
    "newt",
    "otter",
    "panda",
    "quail",
    "raven",
    "seal",
    "tapir",
    "viper",
    "wren",
)


def random_run_name() -> str:
    """A readable run name like ``brisk-otter-417``."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000)}"


__all__ = ["random_run_name"]
