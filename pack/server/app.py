"""The tracking server's ASGI app and its composition root (``create_app``).

One app answers every route: ``/health`` and ``/version``; MLflow's REST API under its four prefixes;
the artifact proxy; the UI's artifact routes; and whatever ``extra`` app is mounted (the web UI, at
``/``). Before any route: the Host header is checked (DNS rebinding), a cross-origin write from a
browser is refused unless its origin is allowed, and with ``--auth`` the caller is authenticated
(the role is checked per endpoint). Every error is MLflow's JSON error document with a request id;
an unexpected one is logged with its traceback and answered 500 without details.
"""

from __future__ import annotations

import gzip
import logging
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pack._version import __version__
from pack.errors import PackError
from pack.registry.services import Services
from pack.registry.settings import RegistrySettings
from pack.server import accounts_api, models_api, registry_api, tracking_api
from pack.server.api import Access, Call, Endpoint, EndpointTable, collect, strip_prefix
from pack.server.artifacts import ArtifactProxy, proxy_path, run_artifact, version_artifact
from pack.server.auth import Authenticator, authorize
from pack.server.errors import BadHost, PayloadTooLarge, PermissionDenied, error_body, http_error
from pack.server.http import header, query_pairs, read_body, send_json, too_large
from pack.server.locations import ArtifactLocations
from pack.server.params import Params
from pack.server.settings import ServerSettings
from pack.serving.logs import REQUEST_ID, RequestIds
from pack.store import User
from pack.store.sql import Database, SqlAuthStore

logger = logging.getLogger("pack.server")

ANONYMOUS = "anonymous"
OPEN_PATHS = frozenset(
    {
        "/health",
        "/version",
        "/api/3.0/mlflow/server-info",
        "/ajax-api/3.0/mlflow/server-info",
        "/api/2.0/mlflow/server-info",
    }
)
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ROUTING_CODES = {404: "ENDPOINT_NOT_FOUND", 405: "BAD_REQUEST"}
# The web UI's calls (``/ajax-api/``) are answered compressed; MLflow's client (``/api/``) is not.
_COMPRESS_FROM = 1024
_GZIP_HEADERS = {"content-encoding": "gzip", "vary": "accept-encoding"}


class TrackingServer:
    """The app; see the module docstring. Build it with ``create_app``."""

    def __init__(
        self,
        settings: ServerSettings,
        services: Services,
        locations: ArtifactLocations,
        authenticator: Authenticator | None,
        extra: ASGIApp | None = None,
    ) -> None:
        self.settings = settings
        self.services = services
        self.locations = locations
        self.authenticator = authenticator
        self.extra = extra
        self.table = EndpointTable(collect(tracking_api, models_api, registry_api, accounts_api))
        self.proxy = ArtifactProxy(locations, settings.max_artifact_bytes, settings.upload_idle_timeout)
        hosts = settings.hosts
        self.any_host = "*" in hosts
        self.hosts = frozenset(h.lower() for h in hosts if not h.startswith("."))
        self.domains = tuple(h.lower() for h in hosts if h.startswith("."))
        self.origins = frozenset(settings.cors_allowed_origins)
        self.ids = RequestIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = self.ids.new(header(scope, b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        started = False

        async def tracked_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            self._check_host(scope)
            self._check_origin(scope)
            await self._route(scope, receive, tracked_send)
        except Exception as error:
            if started:  # a streamed download failed midway: nothing more can be said
                logger.error("failed while streaming %s (request %s)", scope["path"], request_id, exc_info=error)
                return
            await self._send_error(tracked_send, scope, error, request_id)
        finally:
            REQUEST_ID.reset(token)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health":
            await _send_text(send, b"OK")
            return
        if path == "/version":
            await _send_text(send, __version__.encode())
            return
        rest = strip_prefix(path)
        if rest is not None:
            endpoint, args = self.table.match(method, rest)
            await self._api(scope, receive, send, endpoint, args)
            return
        artifact = proxy_path(path)
        if artifact is not None:
            await self._artifacts(scope, receive, send, method, artifact)
            return
        if path in ("/get-artifact", "/model-versions/get-artifact") and method in ("GET", "HEAD"):
            await self._authenticate(scope, Access.READ)
            if path == "/get-artifact":
                await run_artifact(scope, send, self.locations, self.services.tracking)
            else:
                await version_artifact(scope, send, self.locations, self.services.registry)
            return
        if self.extra is not None:
            if path not in OPEN_PATHS:
                await self._authenticate(scope, Access.READ)
            await self.extra(scope, receive, send)
            return
        raise HTTPException(404, "no such endpoint")

    async def _api(self, scope: Scope, receive: Receive, send: Send, endpoint: Endpoint, args: dict[str, str]) -> None:
        body = (
            b""
            if scope["method"] == "GET"
            else await read_body(receive, self.settings.max_body_bytes, self.settings.body_timeout)
        )
        params = Params(query_pairs(scope), body)
        authorization = None if scope["path"] in OPEN_PATHS else header(scope, b"authorization")
        document = await run_in_threadpool(self._invoke, endpoint, args, params, authorization, scope["path"])
        if scope["path"].startswith("/ajax-api/") and len(document) >= _COMPRESS_FROM and _accepts_gzip(scope):
            document = await run_in_threadpool(gzip.compress, document, 5, mtime=0)
            await send_json(send, 200, document, _GZIP_HEADERS, encoded=True)
            return
        await send_json(send, 200, document, encoded=True)

    def _invoke(
        self, endpoint: Endpoint, args: dict[str, str], params: Params, authorization: str | None, path: str
    ) -> bytes:
        user, role = ANONYMOUS, None
        if self.authenticator is not None and path not in OPEN_PATHS:
            found = self.authenticator.authenticate(authorization)
            authorize(found, endpoint.access)
            user, role = found.username, found.role
        call = Call(params=params, services=self.services, locations=self.locations, user=user, args=args, role=role)
        return orjson.dumps(endpoint.handler(call))

    async def _artifacts(self, scope: Scope, receive: Receive, send: Send, method: str, path: str) -> None:
        if method in ("GET", "HEAD"):
            await self._authenticate(scope, Access.READ)
            if path:
                await self.proxy.download(scope, send, path)
            else:
                await self.proxy.list(scope, send)
        elif method == "PUT" and path:
            await self._authenticate(scope, Access.EDIT)
            _check_declared_size(scope, self.settings.max_artifact_bytes)
            await self.proxy.upload(receive, send, path)
        elif method == "DELETE" and path:
            await self._authenticate(scope, Access.ADMIN)
            await self.proxy.delete(send, path)
        else:
            raise HTTPException(405, "method not allowed")

    async def _authenticate(self, scope: Scope, needed: Access) -> User | None:
        if self.authenticator is None:
            return None
        authenticator = self.authenticator
        user = await run_in_threadpool(authenticator.authenticate, header(scope, b"authorization"))
        authorize(user, needed)
        return user

    def _check_host(self, scope: Scope) -> None:
        if self.any_host:
            return
        name = (header(scope, b"host") or "").lower()
        if name.startswith("["):
            name = name[1 : name.find("]")] if "]" in name else name
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        if name not in self.hosts and not any(name == d[1:] or name.endswith(d) for d in self.domains):
            raise BadHost("Invalid Host header (pack server --allowed-hosts)")

    def _check_origin(self, scope: Scope) -> None:
        """Refuse a browser's cross-origin write unless its origin is allowed (CSRF).

        The browser's own word first (Fetch Metadata: ``Sec-Fetch-Site`` is ``same-origin`` for the
        web UI's calls, even behind a proxy that rewrites ``Host``); without it, ``Origin`` against
        ``Host``; a request with neither header comes from no browser (MLflow's client).
        """
        if scope["method"] not in _UNSAFE_METHODS:
            return
        origin = header(scope, b"origin")
        if origin is not None and ("*" in self.origins or origin in self.origins):
            return
        site = header(scope, b"sec-fetch-site")
        if site is not None:
            if site in ("same-origin", "none"):
                return
        elif origin is None or origin.split("://", 1)[-1] == (header(scope, b"host") or ""):
            return
        raise PermissionDenied(
            f"Cross-origin request from {origin or site!r} refused (pack server --cors-allowed-origins)"
        )

    async def _send_error(self, send: Send, scope: Scope, error: Exception, request_id: str) -> None:
        headers: dict[str, str] = {}
        if isinstance(error, HTTPException):
            message = f"{error.detail}: {scope['method']} {scope['path']}"
            status = error.status_code
            body = error_body(_ROUTING_CODES.get(status, "BAD_REQUEST"), message, request_id)
        else:
            if not isinstance(error, PackError):
                logger.error(
                    "unexpected error on %s %s (request %s)", scope["method"], scope["path"], request_id, exc_info=error
                )
            status, body = http_error(error, request_id)
            if status == 401:
                headers["www-authenticate"] = 'Basic realm="pack"'
            if status in (408, 413):
                headers["connection"] = "close"
        await send_json(send, status, body, headers, encoded=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.services.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _accepts_gzip(scope: Scope) -> bool:
    for part in (header(scope, b"accept-encoding") or "").lower().split(","):
        coding, _, weight = part.partition(";")
        if coding.strip() == "gzip":
            return weight.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _check_declared_size(scope: Scope, limit: int) -> None:
    """Refuse a body whose declared length is over ``limit`` before reading any of it."""
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large(limit))


async def _send_text(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_services(settings: ServerSettings, locations: ArtifactLocations) -> tuple[Services, dict[str, Database]]:
    """The stores and registry of a server for ``settings``, and the databases they share."""
    registry_settings = RegistrySettings(
        tracking_uri=settings.backend_store_uri,
        registry_uri=settings.registry_store_uri,
        default_artifact_root=locations.registry_root,
        cache_dir=settings.cache_dir,
        user=ANONYMOUS,
    )
    pool: dict[str, Database] = {}
    services = Services.from_settings(
        registry_settings, pool, opener=locations.open, experiment_root=locations.experiment_root
    )
    return services, pool


def create_app(settings: ServerSettings, extra: ASGIApp | None = None) -> ASGIApp:
    """The tracking server's app for ``settings`` (the composition root of ``pack server``).

    Args:
        settings: where to store and how to behave.
        extra: an app answering every path the server does not (the web UI, mounted at ``/``).
    """
    locations = ArtifactLocations(settings.default_artifact_root, settings.destination)
    services, pool = build_services(settings, locations)
    authenticator = Authenticator(SqlAuthStore(pool[settings.backend_store_uri])) if settings.auth else None
    app: ASGIApp = TrackingServer(settings, services, locations, authenticator, extra)
    if settings.cors_allowed_origins:
        app = CORSMiddleware(
            app,
            allow_origins=list(settings.cors_allowed_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["*"],
            allow_credentials="*" not in settings.cors_allowed_origins,
        )
    return app


__all__ = ["ANONYMOUS", "OPEN_PATHS", "TrackingServer", "build_services", "create_app"]
