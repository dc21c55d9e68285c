"""Resolving the model URI for Spark, once, on the driver: the local directory and, for a registered
version, the registry's checksums that the files must match.

This is the one place pack's Spark code resolves URIs. ``models:/name@alias`` and
``models:/name/Stage`` are pinned to the version they point to now, so a promotion during a job
cannot mix two versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pack.spark.shipping import FileRecord, Manifest
from pack.uris import resolve_model_uri, scheme_of


@dataclass(frozen=True)
class LocatedModel:
    """A model URI resolved on the driver.

    Attributes:
        uri: what the caller gave.
        path: the local model directory.
        manifest: the registry's record of the version's files (registered versions only).
        name: the registered model's name (registered versions only).
        version: the registered version number (registered versions only).
    """

    uri: str
    path: Path
    manifest: Manifest | None = None
    name: str | None = None
    version: str | None = None


def locate(uri: str) -> LocatedModel:
    """Resolve ``uri``; a registered version also brings its recorded checksums.

    Raises:
        NotFound: nothing at the URI.
        InvalidInput: a malformed or unsupported URI.
        InvalidModel: a registered version's files were tampered with.
    """
    if scheme_of(uri) != "models":
        return LocatedModel(uri=uri, path=resolve_model_uri(uri))
    from pack.registry import context
    from pack.registry.refs import ModelRef

    registry = context.registry()
    found = registry.resolve(ModelRef.parse(uri))
    path = registry.resolve_path(ModelRef(name=found.name, version=found.version))
    files = registry.store.get_model_version_files(found.name, found.version)
    manifest = Manifest.of(FileRecord(f.path, f.sha256, f.size) for f in files)
    return LocatedModel(uri=uri, path=path, manifest=manifest, name=found.name, version=str(found.version))


__all__ = ["LocatedModel", "locate"]
