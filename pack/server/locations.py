"""Where the server keeps files, and which locations a client may make it read.

With ``--serve-artifacts`` (the default) experiments get ``mlflow-artifacts:/<id>`` locations and the
server proxies them to the artifacts destination; registered versions are copied under
``<destination>/models`` and offered to clients as ``mlflow-artifacts:/models/...`` too. Without it,
experiments use the default artifact root directly (clients must reach it themselves).

A client names locations (an experiment's ``artifact_location``, a version's ``source``); the server
reads only locations under its own roots, so nobody can make it register (and then serve) its own files.
"""

from __future__ import annotations

from pack._fs import safe_relpath
from pack.errors import InvalidInput
from pack.store.artifacts import ArtifactStore, FsspecArtifactStore, open_store
from pack.uris import scheme_of

PROXY_SCHEME = "mlflow-artifacts"


def proxy_path(uri: str) -> str:
    """The path inside the destination that an ``mlflow-artifacts:`` URI names.

    Raises:
        InvalidInput: not such a URI, or a path that leaves the destination.
    """
    head, sep, rest = uri.partition(":")
    if not sep or head.lower() != PROXY_SCHEME:
        raise InvalidInput(f"{uri!r} is not an {PROXY_SCHEME}: URI")
    if rest.startswith("//") and not rest.startswith("///"):
        rest = rest[2:].partition("/")[2]  # mlflow-artifacts://host:port/path
    return safe_relpath(rest.lstrip("/"))


class ArtifactLocations:
    """Maps ``mlflow-artifacts:`` URIs to storage and checks the locations clients name.

    Args:
        default_root: the server's ``--default-artifact-root`` (absolute path or URL).
        destination: where proxied artifacts are stored (``--artifacts-destination``), or None when the
            server does not serve artifacts.
    """

    def __init__(self, default_root: str, destination: str | None) -> None:
        self.default_root = default_root.rstrip("/")
        self.store = FsspecArtifactStore(destination) if destination is not None else None

    @property
    def serving(self) -> bool:
        """Whether artifacts are proxied."""
        return self.store is not None

    @property
    def experiment_root(self) -> str:
        """Under what new experiments keep their files."""
        return f"{PROXY_SCHEME}:" if self.serving else self.default_root

    @property
    def registry_root(self) -> str:
        """Under what registered versions are copied."""
        return self.store.url if self.store is not None else self.default_root

    def resolve(self, uri: str) -> str:
        """A storage URL for ``uri`` (``mlflow-artifacts:`` URIs mapped into the destination)."""
        if scheme_of(uri) != PROXY_SCHEME:
            return uri
        if self.store is None:
            raise InvalidInput(f"{uri!r}: this server does not serve artifacts (pack server --serve-artifacts)")
        rel = proxy_path(uri)
        return f"{self.store.url}/{rel}" if rel else self.store.url

    def open(self, uri: str) -> ArtifactStore:
        """The artifact store at ``uri`` (the opener the server's services use)."""
        return open_store(self.resolve(uri))

    def client_uri(self, location: str) -> str:
        """How a client reaches a stored location: ``mlflow-artifacts:/...`` inside the destination."""
        if self.store is not None:
            root = self.store.url.rstrip("/")
            if location == root:
                return f"{PROXY_SCHEME}:/"
            if location.startswith(root + "/"):
                return f"{PROXY_SCHEME}:/{location[len(root) + 1 :]}"
        return location

    def check_readable(self, uri: str) -> None:
        """Refuse a location the server must not read on a client's behalf.

        Raises:
            InvalidInput: ``uri`` is outside the destination and the default artifact root.
        """
        resolved = self.resolve(uri)
        if resolved.startswith("file://"):
            resolved = resolved[len("file://") :]
        for root in {self.default_root, self.registry_root}:
            inside = resolved == root or resolved.startswith(root.rstrip("/") + "/")
            if inside and ".." not in resolved[len(root) :].split("/"):
                return
        raise InvalidInput(
            f"{uri!r} is outside this server's artifact storage: use a runs:/, models:/ or "
            f"{PROXY_SCHEME}:/ URI, or a location under the default artifact root"
        )


__all__ = ["PROXY_SCHEME", "ArtifactLocations", "proxy_path"]
