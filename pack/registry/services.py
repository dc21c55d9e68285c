"""``Services``: the composition root of tracking and the registry, built once from settings at an edge.

Databases (``sqlite:///``, ``postgresql://``) get the SQL stores; a tracking server (``http(s)://``:
``pack server`` or ``mlflow server``) gets the REST stores (``pack.store.rest``) with the remote
registrar and resolver (``pack.registry.remote``).

The CLI builds one per command, the fluent API keeps one process-wide default
(``pack.registry.default``), and a server app factory builds one for its lifetime. Everything below
receives what it needs from here by constructor; nothing below reads settings or module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pack.checksums import Verifier
from pack.errors import InvalidInput
from pack.registry.cleanup import Sweeper
from pack.registry.registration import Registrar
from pack.registry.resolution import VersionResolver
from pack.registry.service import Registry
from pack.registry.settings import RegistrySettings
from pack.store import RegistryStore, TrackingStore
from pack.store.artifacts import ArtifactOpener, RunArtifacts, open_store
from pack.store.sql import Database, SqlRegistryStore, SqlTrackingStore
from pack.uris import scheme_of

if TYPE_CHECKING:  # httpx is imported only when a tracking server is used
    from pack.store.rest import HttpOptions, RestBackend

SERVER_SCHEMES = ("http", "https")


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
    def from_settings(
        cls,
        settings: RegistrySettings,
        databases: dict[str, Database] | None = None,
        *,
        opener: ArtifactOpener = open_store,
        experiment_root: str | None = None,
    ) -> Services:
        """Wire the stores, artifact access and registry policy for ``settings``.

        Nothing is opened yet: databases connect (and migrate) on first use. ``databases`` shares
        ``Database`` objects by URI (tracking and registry share one when their URIs are equal).
        ``opener`` opens artifact locations (a server maps its ``mlflow-artifacts:`` URIs there);
        ``experiment_root`` is where new experiments keep their files (default: the artifact root).
        A tracking server's URI (``http(s)://``) gets the REST stores instead (``on_server``).
        """
        if {scheme_of(settings.tracking_uri), scheme_of(settings.effective_registry_uri)} & set(SERVER_SCHEMES):
            return cls.on_server(settings)
        pool = {} if databases is None else databases

        def database(uri: str) -> Database:
            if uri not in pool:
                pool[uri] = Database(uri)
            return pool[uri]

        tracking = SqlTrackingStore(database(settings.tracking_uri), experiment_root or settings.default_artifact_root)
        store = SqlRegistryStore(database(settings.effective_registry_uri))
        cache_dir = settings.effective_cache_dir
        runs = RunArtifacts(tracking, opener, cache_dir)
        resolver = VersionResolver(store, open_store=opener, verifier=Verifier(settings.verify), cache_dir=cache_dir)
        sweeper = Sweeper(store, settings.default_artifact_root, open_store=opener)
        registrar = Registrar(
            store,
            settings.default_artifact_root,
            open_store=opener,
            resolver=resolver,
            runs=runs,
            user=settings.effective_user,
            fsync=settings.artifact_fsync,
            sweeper=sweeper,
        )
        registry = Registry(
            store,
            registrar=registrar,
            resolver=resolver,
            open_store=opener,
            user=settings.effective_user,
            sweeper=sweeper,
        )
        used = {settings.tracking_uri, settings.effective_registry_uri}
        return cls(
            settings=settings,
            tracking=tracking,
            registry_store=store,
            registry=registry,
            runs=runs,
            open_store=opener,
            databases=tuple(pool[uri] for uri in sorted(used)),
        )

    @classmethod
    def on_server(cls, settings: RegistrySettings) -> Services:
        """Wire the REST stores of the tracking server named by ``settings``: runs, registrations and their
        files are the server's; downloads go to the local cache and are verified there.

        Raises:
            InvalidInput: one of the tracking and registry URIs names a database, or they name two servers.
        """
        from pack.registry.remote import RemoteRegistrar, RemoteVersionResolver
        from pack.store.rest import RestBackend

        url = settings.tracking_uri
        if settings.effective_registry_uri != url or scheme_of(url) not in SERVER_SCHEMES:
            raise InvalidInput(
                f"the tracking URI {url!r} and the registry URI {settings.effective_registry_uri!r} must name "
                "the same tracking server (or both name databases)"
            )
        server = RestBackend(url, http_options(settings))
        opener = server.opener(open_store)
        cache_dir = settings.effective_cache_dir
        resolver = RemoteVersionResolver(
            server.registry, open_store=opener, verifier=Verifier(settings.verify), cache_dir=cache_dir
        )
        registrar = RemoteRegistrar(
            server.registry,
            tracking=server.tracking,
            resolver=resolver,
            open_store=opener,
        )
        registry = Registry(
            server.registry, registrar=registrar, resolver=resolver, open_store=opener, user=settings.effective_user
        )
        return cls(
            settings=settings,
            tracking=server.tracking,
            registry_store=server.registry,
            registry=registry,
            runs=RunArtifacts(server.tracking, opener, cache_dir),
            open_store=opener,
            backends=(server,),
        )

    def close(self) -> None:
        """Close the databases' and tracking servers' pooled connections (they reopen if used again)."""
        for db in self.databases:
            db.dispose()
        for backend in self.backends:
            backend.close()


def http_options(settings: RegistrySettings) -> HttpOptions:
    """How to talk to a tracking server, from ``settings``."""
    from pack.store.rest import HttpOptions

    token, password = settings.tracking_token, settings.tracking_password
    return HttpOptions(
        token=token.get_secret_value() if token else None,
        username=settings.tracking_username,
        password=password.get_secret_value() if password else None,
        timeout=settings.http_timeout,
        max_retries=settings.http_max_retries,
        verify=not settings.tracking_insecure_tls,
    )


__all__ = ["SERVER_SCHEMES", "Services", "http_options"]
