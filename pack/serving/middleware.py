"""Pure ASGI middleware: error responses, request metrics, and the request body size limit."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pack.errors import PackError
from pack.serving.errors import PayloadTooLarge, http_error, protocol_for_path, routing_error
from pack.serving.metrics import ServingMetrics

logger = logging.getLogger("pack.serving")

# Handlers put ``(name, version)`` here once they know which model a request is for.
MODEL_SCOPE_KEY = "pack.model"
_NO_MODEL = ("", "")


class ErrorResponses:
    """Turns exceptions from the routes into JSON error responses (``pack.serving.errors`` decides).

    Handlers send their whole response at the end, so an exception means nothing was sent yet.
    Anything that is not a ``PackError`` is logged with its traceback and answered with a bare 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as error:
            if scope["type"] != "http":
                raise
            protocol = protocol_for_path(scope["path"])
            headers: dict[str, str] = {}
            if isinstance(error, HTTPException):
                message = f"{error.detail}: {scope['method']} {scope['path']}"
                status, body = routing_error(error.status_code, message, protocol)
                headers = dict(error.headers or {})
            else:
                if not isinstance(error, PackError):
                    logger.error("unexpected error on %s %s", scope["method"], scope["path"], exc_info=error)
                status, body = http_error(error, protocol)
            await send_json(send, status, body, headers)


class RequestMetrics:
    """Counts and times every HTTP request, by model, route template and status."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

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
            metrics.requests.labels(model, version, endpoint, str(status)).inc()
            metrics.latency.labels(model, version, endpoint).observe(time.perf_counter() - started)


class BodySizeLimit:
    """Refuses request bodies over ``max_bytes`` with 413 (by Content-Length, or while reading)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            status, body = http_error(self._error(declared), protocol_for_path(scope["path"]))
            await send_json(send, status, body, {"connection": "close"})
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise self._error(received)
            return message

        await self.app(scope, limited_receive, send)

    def _error(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"the request body ({size} bytes or more) is larger than the limit of {self.max_bytes} bytes "
            "(pack serve --max-body-size MB)"
        )


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def send_json(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Send a complete JSON response."""
    raw: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((key.lower().encode(), value.encode()) for key, value in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


__all__ = ["MODEL_SCOPE_KEY", "BodySizeLimit", "ErrorResponses", "RequestMetrics", "send_json"]
