"""``Services``: the composition root of tracking and the registry, built once from settings at an edge.

The CLI builds one per command, the fluent API keeps one process-wide default
(``pack.registry.default``), and a server app factory builds one for its lifetime. Everything below
receives what it needs from here by constructor; nothing below reads settings or module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pack.checksums import Verifier
from pack.registry.registration import Registers, Registrar
from pack.registry.remote import RemoteRegistrar, RemoteVersionResolver
from pack.registry.resolution import VersionResolver
from pack.registry.service import Registry
from pack.registry.settings import RegistrySettings
from pack.store import RegistryStore, TrackingStore
from pack.store.artifacts import ArtifactOpener, RunArtifacts, open_store
from pack.store.rest import HttpOptions, RestBackend, is_server_uri
from pack.store.sql import Database, SqlRegistryStore, SqlTrackingStore


@dataclass(frozen=True)
class Services:
    """What tracking and the registry run on, wired once for one ``RegistrySettings``.

    Attributes:
        settings: what they were built from.
        tracking: the experiments and runs store.
        registry_store: the registered models store (persistence only).
        registry: the lifecycle policy over ``registry_store``; every registry call goes through it.
        runs: access to runs' artifacts.
        open_store: opens the artifact store at a location.
    """

    settings: RegistrySettings
    tracking: TrackingStore
    registry_store: RegistryStore
    registry: Registry
    runs: RunArtifacts
    open_store: ArtifactOpener
    databases: tuple[Database, ...] = field(default=(), repr=False)
    backends: tuple[RestBackend, ...] = field(default=(), repr=False)

    @classmethod
    def from_settings(cls, settings: RegistrySettings, databases: dict[str, Database] | None = None) -> Services:
        """Wire the stores, artifact access and registry policy for ``settings``.

        A URI naming a database gets the SQL stores; one naming a tracking server (``http(s)://``) gets
        the REST stores, whose registrations and files the server keeps. Nothing is opened yet:
        databases connect (and migrate) and servers are contacted on first use. ``databases`` shares
        ``Database`` objects by URI (tracking and registry share one when their URIs are equal).
        """
        pool = {} if databases is None else databases
        backends: dict[str, RestBackend] = {}

        def database(uri: str) -> Database:
            if uri not in pool:
                pool[uri] = Database(uri)
            return pool[uri]

        def backend(uri: str) -> RestBackend:
            if uri not in backends:
                backends[uri] = RestBackend(uri, http_options(settings))
            return backends[uri]

        cache_dir = settings.effective_cache_dir
        verifier = Verifier(settings.verify)
        tracking_uri, registry_uri = settings.tracking_uri, settings.effective_registry_uri
        tracking: TrackingStore
        if is_server_uri(tracking_uri):
            runs = RunArtifacts(backend(tracking_uri).tracking, backend(tracking_uri).opener(open_store), cache_dir)
            tracking = backend(tracking_uri).tracking
        else:
            tracking = SqlTrackingStore(database(tracking_uri), settings.default_artifact_root)
            runs = RunArtifacts(tracking, open_store, cache_dir)
        store: RegistryStore
        registrar: Registers
        if is_server_uri(registry_uri):
            remote = backend(registry_uri)
            opener = remote.opener(open_store)
            store = remote.registry
            resolver: VersionResolver = RemoteVersionResolver(
                remote.registry, open_store=opener, verifier=verifier, cache_dir=cache_dir
            )
            registrar = RemoteRegistrar(
                remote.registry,
                tracking=remote.tracking,
                logged_models=remote.logged_models,
                resolver=resolver,
                open_store=opener,
            )
        else:
            opener = open_store
            store = SqlRegistryStore(database(registry_uri))
            resolver = VersionResolver(store, open_store=opener, verifier=verifier, cache_dir=cache_dir)
            registrar = Registrar(
                store,
                settings.default_artifact_root,
                open_store=opener,
                resolver=resolver,
                runs=runs,
                user=settings.effective_user,
                fsync=settings.artifact_fsync,
            )
        registry = Registry(
            store, registrar=registrar, resolver=resolver, open_store=opener, user=settings.effective_user
        )
        used = {uri for uri in (tracking_uri, registry_uri) if not is_server_uri(uri)}
        return cls(
            settings=settings,
            tracking=tracking,
            registry_store=store,
            registry=registry,
            runs=runs,
            open_store=opener,
            databases=tuple(pool[uri] for uri in sorted(used)),
            backends=tuple(backends.values()),
        )

    def close(self) -> None:
        """Close the databases' and tracking servers' pooled connections (they reopen if used again)."""
        for db in self.databases:
            db.dispose()
        for backend in self.backends:
            backend.close()


def http_options(settings: RegistrySettings) -> HttpOptions:
    """How to talk to a tracking server, from ``settings``."""
    token, password = settings.tracking_token, settings.tracking_password
    return HttpOptions(
        token=token.get_secret_value() if token else None,
        username=settings.tracking_username,
        password=password.get_secret_value() if password else None,
        timeout=settings.http_timeout,
        max_retries=settings.http_max_retries,
        verify=not settings.tracking_insecure_tls,
    )


__all__ = ["Services", "http_options"]
