"""``models:/`` and ``runs:/`` URIs as value objects (``ModelRef``, ``RunArtifactRef``), and the stages
a ``models:/`` URI may name.

Layers pass these objects, not strings: they are parsed once, at the edge.

Forms (MLflow's):
    ``models:/<name>/<version>``     that version
    ``models:/<name>/<stage>``       the highest version currently in that stage (any case)
    ``models:/<name>/latest``        the highest READY version
    ``models:/<name>@<alias>``       the version the alias points to
    ``runs:/<run_id>/<path>``        a path inside a run's artifacts

Resolving them to a local directory: ``pack.uris.resolve``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import unquote

from pack._fs import safe_relpath
from pack.errors import InvalidInput
from pack.uris import scheme_of

MODELS = "models"
RUNS = "runs"
_RUN_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")


class Stage(str, enum.Enum):
    """Registry stages (MLflow's; case-insensitive on input)."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: str | Stage | None) -> Stage:
        """The stage named ``value`` (any case; ``None`` means ``Stage.NONE``).

        Raises:
            InvalidInput: no such stage.
        """
        if value is None:
            return cls.NONE
        if isinstance(value, Stage):
            return value
        for stage in cls:
            if str(value).strip().lower() == stage.value.lower():
                return stage
        known = ", ".join(stage.value for stage in cls)
        raise InvalidInput(f"unknown stage {value!r} (stages: {known})")

    def __str__(self) -> str:
        return self.value


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
        return cls(run_id=run_id, path=safe_relpath(unquote(path)) if path.strip("/") else "")

    def __str__(self) -> str:
        return f"runs:/{self.run_id}/{self.path}" if self.path else f"runs:/{self.run_id}"


def _strip_scheme(uri: str, scheme: str) -> str:
    text = str(uri)
    if scheme_of(text) != scheme:
        raise InvalidInput(f"{text!r} is not a {scheme}:/ URI")
    rest = text[len(scheme) + 1 :]
    if rest.startswith("//") and not rest.startswith("///"):
        raise InvalidInput(f"{text!r}: remote registries ({scheme}://host/...) are not supported")
    return rest.lstrip("/")


__all__ = ["MODELS", "RUNS", "ModelRef", "RunArtifactRef", "Stage"]
