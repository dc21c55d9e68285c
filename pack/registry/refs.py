"""``models:/`` and ``runs:/`` URIs as value objects (``ModelRef``, ``RunArtifactRef``).

Forms (MLflow's):
    ``models:/<name>/<version>``     that version
    ``models:/<name>/<stage>``       the highest version currently in that stage (any case)
    ``models:/<name>/latest``        the highest READY version
    ``models:/<name>@<alias>``       the version the alias points to
    ``runs:/<run_id>/<path>``        a path inside a run's artifacts

Resolving them to a local directory: ``pack.registry.uris.resolve_uri``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote

from pack.errors import InvalidInput
from pack.registry.entities import Stage

MODELS = "models"
RUNS = "runs"
_RUN_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")


@dataclass(frozen=True)
class ModelRef:
    """A reference to one registered version: exactly one of version, stage, alias, latest."""

    name: str
    version: int | None = None
    stage: Stage | None = None
    alias: str | None = None
    latest: bool = False

    @classmethod
    def parse(cls, uri: str) -> ModelRef:
        """Parse a ``models:/`` URI.

        Raises:
            InvalidInput: the URI is not one of the forms above.
        """
        body = _strip_scheme(uri, MODELS)
        parts = [unquote(p) for p in body.split("/")]
        if len(parts) == 1 and "@" in parts[0]:
            name, _, alias = parts[0].rpartition("@")
            if not name or not alias:
                raise InvalidInput(f"{uri!r}: expected models:/<name>@<alias>")
            return cls(name=name, alias=alias)
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise InvalidInput(f"{uri!r}: expected models:/<name>/<version|stage|latest> or models:/<name>@<alias>")
        name, selector = parts
        if selector.isdigit():
            return cls(name=name, version=int(selector))
        if selector.lower() == "latest":
            return cls(name=name, latest=True)
        try:
            return cls(name=name, stage=Stage.parse(selector))
        except InvalidInput:
            stages = ", ".join(s.value for s in Stage)
            raise InvalidInput(
                f"{uri!r}: {selector!r} is not a version number, 'latest' or a stage ({stages})"
            ) from None

    def __str__(self) -> str:
        if self.alias is not None:
            return f"models:/{self.name}@{self.alias}"
        if self.version is not None:
            return f"models:/{self.name}/{self.version}"
        if self.stage is not None:
            return f"models:/{self.name}/{self.stage.value}"
        return f"models:/{self.name}/latest"


@dataclass(frozen=True)
class RunArtifactRef:
    """A path inside a run's artifacts (``""`` for the run's artifact root)."""

    run_id: str
    path: str = ""

    @classmethod
    def parse(cls, uri: str) -> RunArtifactRef:
        """Parse a ``runs:/<run_id>/<path>`` URI.

        Raises:
            InvalidInput: malformed, or the path leaves the run's artifacts.
        """
        body = _strip_scheme(uri, RUNS)
        run_id, _, path = body.partition("/")
        if not _RUN_ID.match(run_id):
            raise InvalidInput(f"{uri!r}: expected runs:/<run_id>/<path>")
        return cls(run_id=run_id, path=safe_artifact_path(unquote(path)) if path.strip("/") else "")

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.path}" if self.path else f"runs:/{self.run_id}"


def safe_artifact_path(path: str) -> str:
    """Normalise a relative artifact path; refuse absolute paths and ``..``.

    Raises:
        InvalidInput: the path is absolute, contains ``..``, NUL or backslashes.
    """
    if "\x00" in path or "\\" in path:
        raise InvalidInput(f"invalid artifact path {path!r}")
    posix = PurePosixPath(path)
    if posix.is_absolute() or (len(path) > 1 and path[1] == ":"):
        raise InvalidInput(f"artifact path {path!r} must be relative")
    if any(part == ".." for part in posix.parts):
        raise InvalidInput(f"artifact path {path!r} must not contain '..'")
    normal = posix.as_posix()
    return "" if normal == "." else normal


def _strip_scheme(uri: str, scheme: str) -> str:
    text = str(uri)
    head, sep, rest = text.partition(":")
    if not sep or head.lower() != scheme:
        raise InvalidInput(f"{text!r} is not a {scheme}:/ URI")
    if rest.startswith("//") and not rest.startswith("///"):
        raise InvalidInput(f"{text!r}: remote registries ({scheme}://host/...) are not supported")
    return rest.lstrip("/")


__all__ = ["MODELS", "RUNS", "ModelRef", "RunArtifactRef", "safe_artifact_path"]
