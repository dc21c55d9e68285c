"""Image references (``[registry/]repository[:tag][@sha256:digest]``), checked against the reference grammar.

The grammar is the distribution project's: a registry host (with a port) only when the first
component has a dot or a colon or is ``localhost``; repository components in lowercase letters and
digits separated by ``.``, ``_``, ``__`` or dashes; a tag of at most 128 word characters, dots and
dashes (not starting with either); a digest ``algorithm:hex``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pack.errors import InvalidInput

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_MAX_NAME = 255


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference; ``tag`` and ``digest`` are ``""`` when absent."""

    repository: str
    tag: str = ""
    digest: str = ""

    def __str__(self) -> str:
        return self.repository + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_image_reference(text: str, *, what: str = "image", allow_digest: bool = True) -> ImageReference:
    """Parse and check an image reference.

    Raises:
        InvalidInput: the reference breaks the grammar; the message says which part and why.
    """
    reference = text.strip()
    remainder, _, digest = reference.partition("@")
    if digest and not allow_digest:
        raise InvalidInput(f"{what} {text!r}: a digest names an existing image; give NAME[:TAG] to build one")
    if digest and not _DIGEST.match(digest):
        raise InvalidInput(f"{what} {text!r}: {digest!r} is not a digest (sha256:<64 hex digits>)")
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    repository, tag = (remainder[:colon], remainder[colon + 1 :]) if colon > slash else (remainder, "")
    if colon > slash and not _TAG.match(tag):
        raise InvalidInput(f"{what} {text!r}: {tag!r} is not a tag (letters, digits, '_', '.', '-'; at most 128)")
    _check_repository(repository, text, what)
    return ImageReference(repository, tag, digest)


def _check_repository(repository: str, text: str, what: str) -> None:
    if not repository:
        raise InvalidInput(f"{what} {text!r} names no repository")
    if len(repository) > _MAX_NAME:
        raise InvalidInput(f"{what} {text!r}: the repository name is longer than {_MAX_NAME} characters")
    components = repository.split("/")
    first = components[0]
    if len(components) > 1 and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.match(first):
            raise InvalidInput(f"{what} {text!r}: {first!r} is not a registry host[:port]")
        components = components[1:]
    for component in components:
        if not _COMPONENT.match(component):
            hint = " (repository names are lowercase)" if component.lower() != component else ""
            raise InvalidInput(f"{what} {text!r}: {component!r} is not a valid repository component{hint}")


__all__ = ["ImageReference", "parse_image_reference"]
