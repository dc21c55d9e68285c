"""A client of a tracking server (``pack server`` or ``mlflow server``) behind the store Protocols.

Chosen when the tracking (or registry) URI is ``http(s)://...``. ``RestTrackingStore`` and
``RestRegistryStore`` speak MLflow's REST API (snake_case protobuf JSON, GET fields as query
parameters); ``ProxiedArtifactStore`` moves files through the server's ``mlflow-artifacts`` proxy;
``RestConnection`` pools connections, sends credentials, and retries what is safe to retry.
"""

from pack.store.rest.artifacts import ProxiedArtifactStore
from pack.store.rest.backend import RestBackend
from pack.store.rest.connection import HttpOptions, MissingEndpoint, RestConnection
from pack.store.rest.registry import RestRegistryStore
from pack.store.rest.tracking import RestTrackingStore

__all__ = [
    "HttpOptions",
    "MissingEndpoint",
    "ProxiedArtifactStore",
    "RestBackend",
    "RestConnection",
    "RestRegistryStore",
    "RestTrackingStore",
]
