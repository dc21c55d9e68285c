"""The ``models:/`` and ``runs:/`` resolvers of the ``pack.uri_resolvers`` plugin group.

``resolve_uri`` resolves with the process's default services (``pack.registry.default``), so
``pack.uris.resolve_model_uri``, ``pack.pyfunc.load_model``, ``pack.load_model`` and ``pack predict``
accept these URIs.
"""

from __future__ import annotations

from pathlib import Path

from pack.errors import InvalidInput
from pack.refs import MODELS, RUNS, ModelRef, RunArtifactRef
from pack.registry.default import process_default
from pack.uris import scheme_of


def resolve_uri(uri: str) -> Path:
    """Resolve a ``models:/`` or ``runs:/`` URI to a local directory, with the current settings.

    A registered version's files are checked against their recorded sha256 (see
    ``pack.registry.settings.RegistrySettings.verify``); remote files are downloaded into the local cache first.

    Raises:
        NotFound: no such model, version, alias, run or path.
        InvalidInput: a malformed URI.
        InvalidModel: a registered file is missing, changed or added (tampered).
    """
    scheme = scheme_of(uri)
    services = process_default().services()
    if scheme == MODELS:
        return services.registry.resolve_path(ModelRef.parse(uri))
    if scheme == RUNS:
        return services.runs.resolve_path(RunArtifactRef.parse(uri))
    raise InvalidInput(f"{uri!r} is not a models:/ or runs:/ URI")


__all__ = ["resolve_uri"]
