"""The process's current tracking/registry location, and the stores built for it.

``pack.set_tracking_uri`` / ``set_registry_uri`` (MLflow's fluent functions) change it; otherwise it
comes from ``RegistrySettings()`` (the ``PACK_*`` environment), read once when first needed. Stores and
services are built once per settings value and reused (one engine per database).
"""

from __future__ import annotations

import threading
from typing import Any

from pack.registry.artifacts import Verifier
from pack.registry.runs import RunArtifacts
from pack.registry.service import Registry
from pack.registry.settings import RegistrySettings, absolute_sqlite_uri
from pack.registry.sql import Database, SqlRegistryStore, SqlTrackingStore

_lock = threading.RLock()
_overrides: dict[str, Any] = {}
_settings: RegistrySettings | None = None
_databases: dict[str, Database] = {}
_services: dict[RegistrySettings, tuple[SqlTrackingStore, SqlRegistryStore, Registry, RunArtifacts]] = {}


def settings() -> RegistrySettings:
    """The current settings (environment plus ``set_*_uri`` overrides)."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = RegistrySettings(**_overrides)
        return _settings


def configure(**values: Any) -> None:
    """Override settings for this process (``tracking_uri=``, ``registry_uri=``, ...); None resets one."""
    global _settings
    with _lock:
        for key, value in values.items():
            if value is None:
                _overrides.pop(key, None)
            else:
                _overrides[key] = value
        _settings = None


def reset() -> None:
    """Forget overrides, cached settings and stores, closing their database connections (the
    environment is read again on next use)."""
    global _settings
    with _lock:
        _overrides.clear()
        _settings = None
        _services.clear()
        for db in _databases.values():
            db.dispose()  # stays known: a store still holding it reopens, and is closed next time


def with_uris(
    base: RegistrySettings, tracking_uri: str | None = None, registry_uri: str | None = None
) -> RegistrySettings:
    """``base`` with other database URIs."""
    update: dict[str, Any] = {}
    if tracking_uri is not None:
        update["tracking_uri"] = absolute_sqlite_uri(tracking_uri)
    if registry_uri is not None:
        update["registry_uri"] = absolute_sqlite_uri(registry_uri)
    return base.model_copy(update=update) if update else base


def database(uri: str) -> Database:
    """The shared ``Database`` for a URI."""
    with _lock:
        if uri not in _databases:
            _databases[uri] = Database(uri)
        return _databases[uri]


def services(
    current: RegistrySettings | None = None,
) -> tuple[SqlTrackingStore, SqlRegistryStore, Registry, RunArtifacts]:
    """Tracking store, registry store, registry service and run artifacts for the settings."""
    chosen = current or settings()
    with _lock:
        found = _services.get(chosen)
        if found is None:
            tracking = SqlTrackingStore(database(chosen.tracking_uri), chosen.default_artifact_root)
            store = SqlRegistryStore(database(chosen.effective_registry_uri))
            runs = RunArtifacts(tracking, chosen.effective_cache_dir)
            registry = Registry(
                store,
                chosen.default_artifact_root,
                runs=runs,
                user=chosen.effective_user,
                verifier=Verifier(chosen.verify),
                cache_dir=chosen.effective_cache_dir,
                fsync=chosen.artifact_fsync,
            )
            found = (tracking, store, registry, runs)
            _services[chosen] = found
        return found


def registry(current: RegistrySettings | None = None) -> Registry:
    """The registry service for the settings."""
    return services(current)[2]


def runs_resolver(current: RegistrySettings | None = None) -> RunArtifacts:
    """Run artifact access for the settings."""
    return services(current)[3]


__all__ = [
    "configure",
    "database",
    "registry",
    "reset",
    "runs_resolver",
    "services",
    "settings",
    "with_uris",
]
