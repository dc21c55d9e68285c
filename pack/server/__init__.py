"""``pack server``: MLflow's tracking REST API over pack's stores, the artifact proxy, and access control.

``create_app(settings, extra=None)`` is the ASGI app (the composition root: it wires the stores, the
registry and the artifact locations from ``ServerSettings``); ``extra`` is an ASGI app answering every
path the API does not (the web UI, mounted at ``/``). ``serve(settings)`` runs it under uvicorn. Nothing
here imports a model framework: the server moves metadata and files, it never loads a model.

Modules: ``api`` (endpoint table and the ``Call`` handlers get), ``tracking_api``, ``models_api``
(MLflow 3 logged models), ``registry_api``, ``artifacts`` (the ``mlflow-artifacts`` proxy), ``wire``
(entities as MLflow's JSON), ``params`` (request fields), ``errors`` (statuses), ``auth``,
``locations`` (``mlflow-artifacts:`` URIs and what clients may make the server read), ``http``
(bounded bodies), ``settings``, ``app``, ``runner``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pack.server.app import create_app
    from pack.server.runner import serve
    from pack.server.settings import ServerSettings

_LAZY = {"create_app": "pack.server.app", "serve": "pack.server.runner", "ServerSettings": "pack.server.settings"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pack.server' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = ["ServerSettings", "create_app", "serve"]
