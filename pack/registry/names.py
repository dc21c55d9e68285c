"""What the registry accepts as model names, aliases and version numbers.

- Model names are 1-256 characters without ``/``, ``@`` or control characters, and without
  surrounding spaces (``/`` and ``@`` delimit ``models:/`` URIs).
- Aliases are letters, digits, ``_``, ``-`` and ``.``, starting with a letter or ``_``, and neither
  ``latest`` nor ``v<number>`` (those read as versions in URIs).
- Versions are positive integers, given as int or digit string.
"""

from __future__ import annotations

import re

from pack.errors import InvalidInput

_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,255}$")
_VERSION_LIKE = re.compile(r"^v\d+$", re.IGNORECASE)


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a valid registered-model name.

    Raises:
        InvalidInput: empty, too long, or containing ``/``, ``@`` or control characters.
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise InvalidInput(f"invalid model name {name!r}: a non-empty name without surrounding spaces")
    if len(name) > 256 or any(c in name for c in "/@") or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"invalid model name {name!r}: at most 256 characters, no '/', '@' or control characters")
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name.

    Raises:
        InvalidInput: not matching the alias rules in the module docstring.
    """
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInput(
            f"invalid alias {alias!r}: use letters, digits, '_', '-' and '.', starting with a letter or '_'"
        )
    if alias.lower() == "latest" or _VERSION_LIKE.match(alias):
        raise InvalidInput(f"invalid alias {alias!r}: 'latest' and 'v<number>' are reserved")
    return alias


def check_version(version: int | str) -> int:
    """A version number from an int or a digit string.

    Raises:
        InvalidInput: anything else.
    """
    if isinstance(version, bool) or not (
        (isinstance(version, int) and version > 0)
        or (isinstance(version, str) and version.isdigit() and int(version) > 0)
    ):
        raise InvalidInput(f"invalid version {version!r}: a positive integer")
    return int(version)


__all__ = ["check_alias", "check_model_name", "check_version"]
