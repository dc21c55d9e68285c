"""The one place where deployments resolve a model URI (a path, ``runs:/``, ``models:/name/Stage|N|@alias``).

A registry URI is resolved to its exact version once, then that version's files are fetched, so a
promotion landing in between cannot mix two versions; the deployment records that version.
"""

from __future__ import annotations

from pack.builders.base import ModelSource
from pack.errors import InvalidInput, NotFound
from pack.uris import resolve_model_uri, scheme_of


def resolve_source(model_uri: str) -> ModelSource:
    """The model directory and identity (name, version, checksum) that ``model_uri`` means now.

    Raises:
        InvalidInput: the URI does not resolve to a model (a deployment's input, hence exit code 2).
        InvalidModel: a registered version's files were tampered with.
    """
    try:
        if scheme_of(model_uri) != "models":
            return ModelSource.from_directory(resolve_model_uri(model_uri))
        from pack.registry import context
        from pack.registry.refs import ModelRef

        registry = context.registry()
        found = registry.resolve(ModelRef.parse(model_uri))
        path = registry.resolve_path(ModelRef(name=found.name, version=found.version))
    except NotFound as error:
        raise InvalidInput(f"model URI {model_uri!r} does not resolve: {error}") from None
    return ModelSource.from_directory(path, name=found.name, version=str(found.version), source_uri=model_uri)


__all__ = ["resolve_source"]
