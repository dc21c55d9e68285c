"""The REST API's plumbing: endpoints, the call a handler gets, and the table that routes to them.

Every endpoint is served under ``/api/2.0/mlflow/``, ``/api/3.0/mlflow/``, ``/ajax-api/2.0/mlflow/``
and ``/ajax-api/3.0/mlflow/`` (MLflow's client, its UI, and MLflow 3's routes). Exact paths are one
dict lookup; the few paths with an id in them (``logged-models/{model_id}/...``) are matched after.
Handlers are plain functions of a ``Call`` returning the JSON document; they run in a worker thread
(the stores block).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException

from pack.registry.service import Registry
from pack.registry.services import Services
from pack.server.locations import ArtifactLocations
from pack.server.params import Params
from pack.server.wire import Json
from pack.store import TrackingStore

PREFIXES = ("/api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/2.0/mlflow/", "/ajax-api/3.0/mlflow/")


class Access(enum.IntEnum):
    """What an endpoint needs: read everything, log and register, or administer."""

    READ = 1
    EDIT = 2
    ADMIN = 3


@dataclass
class Call:
    """One API call: its fields, who makes it (``role`` None: access control is off), and what the
    server runs on."""

    params: Params
    services: Services
    locations: ArtifactLocations
    user: str
    args: dict[str, str] = field(default_factory=dict)
    role: str | None = None
    """The caller's role (None when the server runs without ``--auth``)."""

    @property
    def tracking(self) -> TrackingStore:
        """The tracking store."""
        return self.services.tracking

    @property
    def registry(self) -> Registry:
        """The registry, recording the caller as who changes things."""
        return self.services.registry.acting_as(self.user)


Handler = Callable[[Call], Json]


@dataclass(frozen=True)
class Endpoint:
    """``method path`` (relative to ``.../mlflow/``; ``{name}`` matches one path segment)."""

    method: str
    path: str
    handler: Handler
    access: Access


class EndpointTable:
    """Finds the endpoint of a method and path (404 ``ENDPOINT_NOT_FOUND``, 405 for a wrong method)."""

    def __init__(self, endpoints: Iterable[Endpoint]) -> None:
        self.exact: dict[tuple[str, str], Endpoint] = {}
        self.patterns: list[tuple[re.Pattern[str], Endpoint]] = []
        self.paths: set[str] = set()
        for endpoint in endpoints:
            if "{" in endpoint.path:
                regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", endpoint.path)
                self.patterns.append((re.compile(f"^{regex}$"), endpoint))
            else:
                self.exact[(endpoint.method, endpoint.path)] = endpoint
                self.paths.add(endpoint.path)

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint and its path arguments.

        Raises:
            HTTPException: 404 no such path, 405 no such method for it.
        """
        found = self.exact.get((method, path))
        if found is not None:
            return found, {}
        wrong_method = path in self.paths
        for pattern, endpoint in self.patterns:
            matched = pattern.match(path)
            if matched is not None:
                if endpoint.method == method:
                    return endpoint, matched.groupdict()
                wrong_method = True
        if wrong_method:
            raise HTTPException(405, "method not allowed")
        raise HTTPException(404, "no such endpoint")


def strip_prefix(path: str) -> str | None:
    """The part of an API path after ``.../mlflow/``, or None for other paths."""
    for prefix in PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def endpoints(method: str, access: Access, *paths: str) -> Callable[[Handler], Handler]:
    """Decorator collecting ``Endpoint`` records on the handler (``handler.endpoints``)."""

    def mark(handler: Handler) -> Handler:
        found: list[Endpoint] = getattr(handler, "endpoints", [])
        found.extend(Endpoint(method, path, handler, access) for path in paths)
        handler.endpoints = found  # type: ignore[attr-defined]
        return handler

    return mark


def collect(*modules: Any) -> list[Endpoint]:
    """Every endpoint declared in ``modules`` with ``endpoints``."""
    result: list[Endpoint] = []
    for module in modules:
        for value in vars(module).values():
            result.extend(getattr(value, "endpoints", ()))
    return result


__all__ = ["PREFIXES", "Access", "Call", "Endpoint", "EndpointTable", "Handler", "collect", "endpoints", "strip_prefix"]
