"""The ``models:/`` and ``runs:/`` resolver of the ``pack.uri_resolvers`` plugin group.

``resolve_uri`` resolves with the process's default services (``pack.registry.default``), so
``pack.uris.resolve`` (and with it every command and API that takes a model URI) accepts these URIs.
"""

from __future__ import annotations

from dataclasses import replace

from pack.errors import InvalidInput
from pack.refs import MODELS, RUNS, ModelRef, RunArtifactRef
from pack.registry.default import process_default
from pack.uris import ResolvedModel, scheme_of


def resolve_uri(uri: str) -> ResolvedModel:
    """Resolve a ``models:/`` or ``runs:/`` URI to a local directory, with the current settings.

    A stage or alias is resolved to one version once, and exactly that version's files are fetched (a
    promotion landing in between cannot mix two versions). They are checked against their recorded
    sha256 (see ``RegistrySettings.verify``); remote files are downloaded into the local cache first.

    Raises:
        NotFound: no such model, version, alias, run or path.
        InvalidInput: a malformed URI.
        InvalidModel: a registered file is missing, changed or added (tampered).
    """
    scheme = scheme_of(uri)
    services = process_default().services()
    if scheme == MODELS:
        return replace(services.registry.resolve_model(ModelRef.parse(uri)), uri=uri)
    if scheme == RUNS:
        ref = RunArtifactRef.parse(uri)
        return ResolvedModel(path=services.runs.resolve_path(ref), uri=uri, run_id=ref.run_id)
    raise InvalidInput(f"{uri!r} is not a models:/ or runs:/ URI")


__all__ = ["resolve_uri"]
