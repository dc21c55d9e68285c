"""Pure ASGI middleware: request metrics, and the request body size limit."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pack.serving.errors import PayloadTooLarge, http_error, protocol_for_path
from pack.serving.metrics import ServingMetrics

# Handlers put ``(name, version)`` here once they know which model a request is for.
MODEL_SCOPE_KEY = "pack.model"
_NO_MODEL = ("", "")


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
            await _refuse(scope, send, self._error(declared))
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


async def _refuse(scope: Scope, send: Send, error: Exception) -> None:
    status, body = http_error(error, protocol_for_path(scope["path"]))
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["MODEL_SCOPE_KEY", "BodySizeLimit", "RequestMetrics"]
