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
from pack.uris import resolve


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
    found = resolve(uri)
    manifest = Manifest.of(FileRecord(f.path, f.sha256, f.size) for f in found.files) if found.files else None
    version = str(found.version) if found.version is not None else None
    return LocatedModel(uri=uri, path=found.path, manifest=manifest, name=found.name, version=version)


__all__ = ["LocatedModel", "locate"]
