"""Resolving a model URI for a command: the local directory plus, for registry URIs, which version.

``models:/name/Production`` is resolved to its version number once, and the files of that exact
version are fetched, so a promotion landing in between cannot mix two versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pack.checksums import FileChecksum
from pack.uris import resolve_model_uri, scheme_of


@dataclass(frozen=True)
class ResolvedModel:
    """A model URI resolved to a local directory.

    Attributes:
        uri: what the user gave.
        path: the local model directory.
        name: the registered model's name (registry URIs only).
        version: the registered version number (registry URIs only).
        files: the registry's record of the version's files (registry URIs only), for processes that
            load the files later to verify them again.
    """

    uri: str
    path: Path
    name: str | None = None
    version: str | None = None
    files: tuple[FileChecksum, ...] | None = None

    @property
    def exact_uri(self) -> str:
        """What to record as the model's source: ``models:/NAME/VERSION`` for registry URIs (never a
        stage or alias, which move), a run or other URI as given, else the local directory's name (no
        path of this machine)."""
        if self.name is not None and self.version is not None:
            return f"models:/{self.name}/{self.version}"
        if scheme_of(self.uri) not in ("", "file"):
            return self.uri
        return self.path.name


def resolve_model(uri: str) -> ResolvedModel:
    """Resolve any model URI; registry URIs also say which registered version they mean.

    Raises:
        NotFound: nothing at the URI.
        InvalidInput: a malformed URI.
        InvalidModel: a registered version's files were tampered with.
    """
    if scheme_of(uri) != "models":
        return ResolvedModel(uri=uri, path=resolve_model_uri(uri))
    from pack.refs import ModelRef
    from pack.registry.default import process_default

    registry = process_default().services().registry
    found = registry.resolve(ModelRef.parse(uri))
    exact = ModelRef(name=found.name, version=found.version)
    path = registry.resolve_path(exact)
    files = tuple(registry.store.get_model_version_files(found.name, found.version))
    return ResolvedModel(uri=uri, path=path, name=found.name, version=str(found.version), files=files)


__all__ = ["ResolvedModel", "resolve_model"]
