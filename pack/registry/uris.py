"""Resolving ``models:/`` and ``runs:/`` URIs to a local directory, with the process's settings.

``resolve_uri`` is registered for both schemes in the ``pack.uri_resolvers`` plugin group, so
``pack.uris.resolve_model_uri``, ``pack.pyfunc.load_model``, ``pack.load_model`` and ``pack predict``
accept them. The URI forms and their value objects are in ``pack.registry.refs`` (re-exported here).
"""

from __future__ import annotations

from pathlib import Path

from pack.errors import InvalidInput
from pack.registry import context
from pack.registry.refs import MODELS, RUNS, ModelRef, RunArtifactRef, safe_artifact_path


def resolve_uri(uri: str) -> Path:
    """Resolve a ``models:/`` or ``runs:/`` URI to a local directory, with the current settings.

    A registered version's files are checked against their recorded sha256 (see
    ``pack.registry.settings.RegistrySettings.verify``); remote files are downloaded into the local cache first.

    Raises:
        NotFound: no such model, version, alias, run or path.
        InvalidInput: a malformed URI.
        InvalidModel: a registered file is missing, changed or added (tampered).
    """
    head = str(uri).partition(":")[0].lower()
    if head == MODELS:
        return context.registry().resolve_path(ModelRef.parse(uri))
    if head == RUNS:
        return context.runs_resolver().resolve_path(RunArtifactRef.parse(uri))
    raise InvalidInput(f"{uri!r} is not a models:/ or runs:/ URI")


__all__ = ["MODELS", "RUNS", "ModelRef", "RunArtifactRef", "resolve_uri", "safe_artifact_path"]
