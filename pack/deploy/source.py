"""The one place where deployments resolve a model URI (a path, ``runs:/``, ``models:/name/Stage|N|@alias``).

A registry URI is resolved to its exact version once, then that version's files are fetched, so a
promotion landing in between cannot mix two versions; the deployment records that version.
"""

from __future__ import annotations

from pack.builders.base import ModelSource
from pack.errors import InvalidInput, NotFound
from pack.uris import resolve


def resolve_source(model_uri: str) -> ModelSource:
    """The model directory and identity (name, version, checksum) that ``model_uri`` means now.

    Raises:
        InvalidInput: the URI does not resolve to a model (a deployment's input, hence exit code 2).
        InvalidModel: a registered version's files were tampered with.
    """
    try:
        resolved = resolve(model_uri)
    except NotFound as error:
        raise InvalidInput(f"model URI {model_uri!r} does not resolve: {error}") from None
    return ModelSource.from_resolved(resolved)


__all__ = ["resolve_source"]
