"""Pure ASGI middleware: request ids and JSON error responses, request metrics, host/auth checks, CORS."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pack.errors import InvalidInput, PackError
from pack.serving.errors import (
    NotReady,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    Unauthorized,
    error_body,
    http_error,
    protocol_for_path,
    routing_error,
)
from pack.serving.logs import REQUEST_ID, RequestIds, log_failure
from pack.serving.metrics import ServingMetrics

logger = logging.getLogger("pack.serving")

# Handlers put ``(name, version)`` here once they know which model a request is for.
MODEL_SCOPE_KEY = "pack.model"
HEADERS_SCOPE_KEY = "pack.headers"
# The request headers any layer of the server reads (ASGI servers send names lowercased).
READ_HEADERS = frozenset(
    {b"host", b"authorization", b"content-length", b"content-type", b"content-encoding", b"x-request-id"}
    | {b"inference-header-content-length"}
)
_NO_MODEL = ("", "")
_MAX_CHILDREN = 4096
# Routes that answer without a token: probes and operations (no model data in them).
OPEN_PATHS = frozenset({"/ping", "/health", "/version", "/metrics", "/v2/health/live", "/v2/health/ready"})


def request_headers(scope: Scope) -> dict[bytes, bytes]:
    """The headers the server reads, by lowercase name (the first of repeated ones, as Starlette's
    ``Headers.get``), collected in one pass over the request's headers and kept in its scope."""
    found: dict[bytes, bytes] | None = scope.get(HEADERS_SCOPE_KEY)
    if found is None:
        found = {name: value for name, value in reversed(scope["headers"]) if name in READ_HEADERS}
        scope[HEADERS_SCOPE_KEY] = found
    return found


def header(scope: Scope, name: bytes) -> str | None:
    """One header the server reads (see ``READ_HEADERS``), decoded, or None."""
    value = request_headers(scope).get(name)
    return value.decode("latin-1") if value is not None else None


class ErrorResponses:
    """Gives each request its id and turns exceptions from the layers below into JSON error responses.

    Handlers send their whole response at the end, so an exception means nothing was sent yet.
    Anything that is not a ``PackError`` is logged with its traceback and answered with a bare 500;
    a request cancelled by the end of a drain is answered 503.
    """

    def __init__(self, app: ASGIApp, expose_errors: bool = False) -> None:
        self.app = app
        self.expose_errors = expose_errors
        self.ids = RequestIds()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.ids.new(header(scope, b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            message = "the server stopped before the request finished (drain timeout); retry"
            body = error_body("TEMPORARILY_UNAVAILABLE", message, protocol_for_path(scope["path"]), request_id)
            await send_json(send, 503, body, {"x-request-id": request_id, "connection": "close"})
            raise
        except Exception as error:
            status, body, headers = self._answer(scope, error, request_id)
            await send_json(send, status, body, headers)
        finally:
            REQUEST_ID.reset(token)

    def _answer(self, scope: Scope, error: Exception, request_id: str) -> tuple[int, bytes, dict[str, str]]:
        protocol = protocol_for_path(scope["path"])
        headers = {"x-request-id": request_id}
        if isinstance(error, HTTPException):
            message = f"{error.detail}: {scope['method']} {scope['path']}"
            status, body = routing_error(error.status_code, message, protocol)
            return status, body, {**headers, **(error.headers or {})}
        if not isinstance(error, PackError):
            log_failure("unexpected error on %s %s", error, scope["method"], scope["path"])
        status, body = http_error(error, protocol, request_id, self.expose_errors)
        if isinstance(error, (PayloadTooLarge, RequestTimeout)):
            headers["connection"] = "close"  # the rest of the body is never read
        elif isinstance(error, Overloaded):
            headers["retry-after"] = str(error.retry_after)
        elif isinstance(error, NotReady):
            headers["retry-after"] = "5"
        elif isinstance(error, Unauthorized):
            headers["www-authenticate"] = 'Bearer realm="pack"'
        return status, body, headers


class RequestMetrics:
    """Counts and times every HTTP request, by model, route template and status."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # The labelled children by (model, version, endpoint, status): looking them up in prometheus
        # takes a lock and validates labels on every call. Few distinct keys exist (routes x statuses).
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = self.metrics
        started = time.perf_counter()
        metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            metrics.in_flight.dec()
            route = scope.get("route")
            endpoint = getattr(route, "path", "<unmatched>") if route is not None else "<unmatched>"
            model, version = scope.get(MODEL_SCOPE_KEY, _NO_MODEL)
            key = (model, version, endpoint, status)
            children = self._children.get(key)
            if children is None:
                children = (
                    metrics.requests.labels(model, version, endpoint, str(status)),
                    metrics.latency.labels(model, version, endpoint),
                )
                if len(self._children) < _MAX_CHILDREN:
                    self._children[key] = children
            children[0].inc()
            children[1].observe(time.perf_counter() - started)


class RequestGuard:
    """Refuses, before any work: a Host not allowed (DNS rebinding), a missing or wrong bearer token on
    the routes that need one, and a declared body over the size limit.

    Args:
        app: the next layer.
        hosts: Host names accepted (``*`` any; ``.example.com`` that domain and its subdomains).
        token: the bearer token scoring and metadata routes require (None: no authentication).
        max_bytes: the body size limit.
    """

    def __init__(self, app: ASGIApp, hosts: Sequence[str], token: str | None, max_bytes: int) -> None:
        self.app = app
        self.any_host = "*" in hosts
        self.hosts = frozenset(h.lower() for h in hosts if not h.startswith("."))
        self.domains = tuple(h.lower() for h in hosts if h.startswith("."))
        self.expected = f"Bearer {token}".encode() if token else None
        self.max_bytes = max_bytes
        self._hosts_seen: dict[bytes, bool] = {}  # Host values already judged (clients send few)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)
        if not self.any_host and not self._known_host(headers.get(b"host", b"")):
            raise InvalidInput("Invalid host header (pack serve --allowed-hosts)")
        if self.expected is not None and scope["path"] not in OPEN_PATHS and scope["method"] != "OPTIONS":
            offered = headers.get(b"authorization", b"")
            if not hmac.compare_digest(offered, self.expected):
                raise Unauthorized("a valid bearer token is required (Authorization: Bearer <token>)")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise PayloadTooLarge(too_large_message(int(declared), self.max_bytes))
        await self.app(scope, receive, send)

    def _known_host(self, host: bytes) -> bool:
        allowed = self._hosts_seen.get(host)
        if allowed is None:
            allowed = self._host_allowed(host.decode("latin-1"))
            if len(self._hosts_seen) < _MAX_CHILDREN:
                self._hosts_seen[host] = allowed
        return allowed

    def _host_allowed(self, host: str) -> bool:
        name = host.lower()
        if name.startswith("["):  # [::1]:5000
            name = name[1 : name.find("]")] if "]" in name else name
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        return name in self.hosts or any(name == d[1:] or name.endswith(d) for d in self.domains)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered in JSON like every other error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        message = bytes(response.body).decode("utf-8", "replace")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
        body = error_body("BAD_REQUEST", message, "mlflow")
        return Response(body, status_code=response.status_code, headers=headers, media_type="application/json")


def too_large_message(size: int, limit: int) -> str:
    return (
        f"the request body ({size} bytes or more) is larger than the limit of {limit} bytes "
        "(pack serve --max-body-size MB)"
    )


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Send a complete JSON response."""
    raw: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((key.lower().encode(), value.encode()) for key, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


__all__ = [
    "HEADERS_SCOPE_KEY",
    "MODEL_SCOPE_KEY",
    "OPEN_PATHS",
    "ErrorResponses",
    "JsonCORSMiddleware",
    "RequestGuard",
    "RequestMetrics",
    "header",
    "request_headers",
    "send_json",
    "too_large_message",
]
