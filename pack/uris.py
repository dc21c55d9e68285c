"""Model URIs, resolved to a local model directory in one place.

Local paths and ``file://`` URIs are handled here. Other schemes (``models:/``, ``runs:/``) are
handled by resolvers in the ``pack.uri_resolvers`` plugin group, so this module never imports the
registry.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from pack import _plugins
from pack.errors import InvalidInput, NotFound


def scheme_of(uri: str) -> str:
    """The URI's scheme (``""`` for plain paths, including Windows drive paths)."""
    if "://" not in uri and ":/" not in uri:
        return ""
    scheme = uri.split(":", 1)[0].lower()
    return "" if len(scheme) == 1 else scheme


def resolve_model_uri(uri: str | os.PathLike[str]) -> Path:
    """Turn a model URI into the local directory that holds its MLmodel.

    Raises:
        NotFound: nothing exists at the URI.
        InvalidInput: the URI's scheme is not supported.
    """
    text = os.fspath(uri)
    scheme = scheme_of(text)
    if scheme == "":
        path = Path(text).expanduser()
    elif scheme == "file":
        parsed = urlparse(text)
        path = Path(unquote(parsed.path))
    else:
        try:
            resolver = _plugins.load("pack.uri_resolvers", scheme)
        except NotFound:
            raise InvalidInput(
                f"unsupported model URI scheme {scheme!r} in {text!r} (use a path, file://, models:/ or runs:/)"
            ) from None
        resolved: Path = resolver(text)
        return resolved
    if not path.exists():
        raise NotFound(f"no model at {text!r}")
    return path.absolute()


__all__ = ["resolve_model_uri", "scheme_of"]
