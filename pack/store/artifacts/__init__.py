"""Artifact storage: local folders by default, any fsspec URL, or a ``pack.artifact_stores`` plugin.

``open_store`` is the one place a location becomes an ``ArtifactStore``; the composition root hands
it (as an ``ArtifactOpener``) to whatever needs to open locations.
"""

from __future__ import annotations

from collections.abc import Callable

from pack import _plugins
from pack.errors import NotFound
from pack.store.artifacts.base import ArtifactStore
from pack.store.artifacts.fsspec_store import FsspecArtifactStore
from pack.store.artifacts.runs import RunArtifacts
from pack.uris import scheme_of

GROUP = "pack.artifact_stores"

ArtifactOpener = Callable[[str], ArtifactStore]
"""Opens the artifact store at a location (``open_store`` or a wrapper of it)."""


def open_store(url: str) -> ArtifactStore:
    """The artifact store for a folder or URL: a plugin registered for its scheme, else fsspec.

    Raises:
        InvalidInput: the URL's scheme is unknown. RegistryError: its fsspec driver is missing.
    """
    scheme = scheme_of(url) or "file"
    try:
        factory = _plugins.load(GROUP, scheme)
    except NotFound:
        return FsspecArtifactStore(url)
    store: ArtifactStore = factory(url)
    return store


__all__ = [
    "ArtifactOpener",
    "ArtifactStore",
    "FsspecArtifactStore",
    "RunArtifacts",
    "Verifier",
    "VerifyMode",
    "open_store",
]
