"""The process's one lazy default: where MLflow-style calls without explicit settings go.

``pack.set_tracking_uri`` / ``set_registry_uri`` (MLflow's fluent functions) override the settings;
otherwise they come from ``RegistrySettings()`` (the ``PACK_*`` environment), read when first needed.
``Services`` are built once per settings value and reused, and share one ``Database`` per URI, so every
``Client()`` of a process talks to a database through one connection pool.

This is the only module-level mutable state of tracking and the registry; it is used at the edges
(``Client()``, the fluent API, ``models:/`` and ``runs:/`` URIs) and nowhere below them.
"""

from __future__ import annotations

import threading
from typing import Any

from pack.registry.services import Services
from pack.registry.settings import RegistrySettings
from pack.store.sql import Database


class ProcessDefault:
    """Settings overrides and the ``Services`` built so far, for one process."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._overrides: dict[str, Any] = {}
        self._settings: RegistrySettings | None = None
        self._databases: dict[str, Database] = {}
        self._services: dict[RegistrySettings, Services] = {}

    def settings(self) -> RegistrySettings:
        """The current settings (environment plus ``configure`` overrides)."""
        with self._lock:
            if self._settings is None:
                self._settings = RegistrySettings(**self._overrides)
            return self._settings

    def configure(self, **values: Any) -> None:
        """Override settings (``tracking_uri=``, ``registry_uri=``, ...); None removes an override."""
        with self._lock:
            for key, value in values.items():
                if value is None:
                    self._overrides.pop(key, None)
                else:
                    self._overrides[key] = value
            self._settings = None

    def services(self, settings: RegistrySettings | None = None) -> Services:
        """The ``Services`` for ``settings`` (default: the current settings), built on first use."""
        chosen = settings or self.settings()
        with self._lock:
            found = self._services.get(chosen)
            if found is None:
                found = Services.from_settings(chosen, self._databases)
                self._services[chosen] = found
            return found

    def reset(self) -> None:
        """Forget overrides, settings and services, closing database and tracking server connections (the
        environment is read again on next use)."""
        with self._lock:
            self._overrides.clear()
            self._settings = None
            for services in self._services.values():
                for backend in services.backends:
                    backend.close()  # a client still holding it reopens, and is closed next time
            self._services.clear()
            for db in self._databases.values():
                db.dispose()  # stays known: a store still holding it reopens, and is closed next time


_default: ProcessDefault | None = None
_create_lock = threading.Lock()


def process_default() -> ProcessDefault:
    """The process's ``ProcessDefault``, created on first use."""
    global _default
    if _default is None:
        with _create_lock:
            if _default is None:
                _default = ProcessDefault()
    return _default


__all__ = ["ProcessDefault", "process_default"]
