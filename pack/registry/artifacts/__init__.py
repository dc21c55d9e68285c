"""Artifact storage: local folders by default, any fsspec URL, or a ``pack.artifact_stores`` plugin."""

from __future__ import annotations

from pack import _plugins
from pack.errors import NotFound
from pack.registry.artifacts.base import ArtifactStore
from pack.registry.artifacts.fsspec_store import FsspecArtifactStore
from pack.registry.artifacts.verify import Verifier

GROUP = "pack.artifact_stores"


def open_store(url: str) -> ArtifactStore:
    """The artifact store for a folder or URL: a plugin registered for its scheme, else fsspec.

    Raises:
        InvalidInput: the URL's scheme is unknown. RegistryError: its fsspec driver is missing.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    try:
        factory = _plugins.load(GROUP, scheme)
    except NotFound:
        return FsspecArtifactStore(url)
    store: ArtifactStore = factory(url)
    return store


__all__ = ["ArtifactStore", "FsspecArtifactStore", "Verifier", "open_store"]
