"""``RestBackend``: everything a client uses of one tracking server, and how its URIs open as files."""

from __future__ import annotations

from urllib.parse import unquote

from pack.errors import InvalidInput
from pack.refs import MODELS, RUNS, ModelRef, RunArtifactRef
from pack.store.artifacts import ArtifactOpener, ArtifactStore
from pack.store.rest.artifacts import SCHEME, ProxiedArtifactStore, proxied_path
from pack.store.rest.connection import HttpOptions, RestConnection
from pack.store.rest.registry import RestRegistryStore
from pack.store.rest.tracking import RestTrackingStore
from pack.uris import scheme_of

_MAX_INDIRECTIONS = 8


class RestBackend:
    """The stores of the tracking server at ``base_url``, sharing one connection pool."""

    def __init__(self, base_url: str, options: HttpOptions | None = None) -> None:
        self.connection = RestConnection(base_url, options)
        self.tracking = RestTrackingStore(self.connection)
        self.registry = RestRegistryStore(self.connection)

    def opener(self, fallback: ArtifactOpener) -> ArtifactOpener:
        """An artifact opener that also understands this server's URIs: ``mlflow-artifacts:/``
        (through its proxy), ``runs:/<id>/<path>``, ``models:/m-<id>`` and ``models:/<name>/<version>``
        (what ``get-download-uri`` may answer); anything else goes to ``fallback``."""

        def open_store(url: str, depth: int = 0) -> ArtifactStore:
            if depth > _MAX_INDIRECTIONS:
                raise InvalidInput(f"{url!r}: too many indirections")
            scheme = scheme_of(url)
            if scheme == SCHEME:
                return ProxiedArtifactStore(self.connection, proxied_path(url, self.connection))
            if scheme == RUNS:
                run_ref = RunArtifactRef.parse(url)
                run = self.tracking.get_run(run_ref.run_id)
                return open_store(run.info.artifact_uri, depth + 1).child(run_ref.path)
            if scheme == MODELS:
                body = unquote(url.split(":", 1)[1].lstrip("/"))
                if body.startswith("m-") and "/" not in body:
                    return open_store(self.tracking.get_logged_model(body).artifact_location, depth + 1)
                ref = ModelRef.parse(url)
                if ref.version is None:
                    raise InvalidInput(f"{url!r}: a download location names an exact version")
                return open_store(self.registry.get_model_version_download_uri(ref.name, ref.version), depth + 1)
            return fallback(url)

        return open_store

    def close(self) -> None:
        """Close the connection pool (reopened if used again)."""
        self.connection.close()


__all__ = ["RestBackend"]
