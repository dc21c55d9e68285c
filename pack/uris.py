"""Model URIs: the one place a URI's scheme is read, and the one resolver of a model URI.

``resolve(uri)`` turns any model URI into a ``ResolvedModel``: a local directory plus, for registered
versions, which version it is and the checksums recorded for its files. Local paths and ``file://``
are handled here; every other scheme (``models:/``, ``runs:/``, and whatever plugs in: a tracking
server, ``s3://``, ``mlflow-artifacts:/``) by a resolver of the ``pack.uri_resolvers`` plugin group,
a callable ``(uri: str) -> ResolvedModel``, so this module never imports the registry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from pack import _plugins
from pack.checksums import FileChecksum
from pack.errors import InvalidInput, NotFound, PackError

GROUP = "pack.uri_resolvers"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")


def scheme_of(uri: str | os.PathLike[str]) -> str:
    """The URI's scheme, lower case (``""`` for plain paths, including Windows drive paths)."""
    match = _SCHEME.match(os.fspath(uri))
    return match.group(1).lower() if match else ""


@dataclass(frozen=True)
class ResolvedModel:
    """A model URI resolved to a local model directory, and what is known about it.

    Attributes:
        path: the local directory holding the ``MLmodel``.
        uri: the URI as given.
        name: the registered model's name (registered versions only).
        version: the registered version number (registered versions only): a stage or alias URI is
            resolved to one version once, and ``path`` holds exactly that version's files.
        run_id: the run the model was logged in, when known.
        files: the files of a registered version with the sha256 and size recorded at registration
            (empty otherwise), so that whoever loads it can check the files themselves.
    """

    path: Path
    uri: str
    name: str | None = None
    version: int | None = None
    run_id: str | None = None
    files: tuple[FileChecksum, ...] = ()

    @property
    def exact_uri(self) -> str:
        """What to record as the model's source: ``models:/NAME/VERSION`` for registered versions (never
        a stage or alias, which move), a run or other URI as given, else the local directory's name (no
        path of this machine)."""
        if self.name is not None and self.version is not None:
            return f"models:/{self.name}/{self.version}"
        if scheme_of(self.uri) not in ("", "file"):
            return self.uri
        return self.path.name


Resolver = Callable[[str], ResolvedModel]
"""What a ``pack.uri_resolvers`` plugin is."""


def resolve(uri: str | os.PathLike[str]) -> ResolvedModel:
    """Resolve a model URI: a path, ``file://``, or any scheme a ``pack.uri_resolvers`` plugin serves
    (built in: ``models:/name/version|stage|latest``, ``models:/name@alias``, ``runs:/run_id/path``).

    Raises:
        NotFound: nothing exists at the URI.
        InvalidInput: the URI's scheme is not supported, or the URI is malformed.
        InvalidModel: a registered version's files were changed after registration.
    """
    text = os.fspath(uri)
    scheme = scheme_of(text)
    if scheme in ("", "file"):
        path = Path(unquote(urlparse(text).path)) if scheme else Path(text).expanduser()
        if not path.exists():
            raise NotFound(f"no model at {text!r}")
        return ResolvedModel(path=path.absolute(), uri=text)
    try:
        resolver: Resolver = _plugins.load(GROUP, scheme)
    except NotFound:
        raise InvalidInput(
            f"unsupported model URI scheme {scheme!r} in {text!r} (use a path, file://, models:/ or runs:/)"
        ) from None
    resolved = resolver(text)
    if not isinstance(resolved, ResolvedModel):
        raise PackError(f"the {scheme!r} URI resolver returned {type(resolved).__name__}, not a ResolvedModel")
    return resolved


__all__ = ["GROUP", "ResolvedModel", "Resolver", "resolve", "scheme_of"]
