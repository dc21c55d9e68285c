"""The ASGI application: route table, middleware and error mapping around one dataplane."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pack.errors import PackError
from pack.serving.dataplane import DataPlane
from pack.serving.errors import http_error, protocol_for_path, routing_error
from pack.serving.metrics import ServingMetrics
from pack.serving.middleware import BodySizeLimit, RequestMetrics
from pack.serving.routes import Handlers, build_routes
from pack.serving.settings import ModelSpec, ServingSettings


class ServingApp:
    """The scoring server as an ASGI app. Models start loading when the app starts (lifespan)."""

    def __init__(self, models: Sequence[ModelSpec], settings: ServingSettings | None = None) -> None:
        self.settings = settings if settings is not None else ServingSettings()
        self.metrics = ServingMetrics()
        self.dataplane = DataPlane(models, self.settings, self.metrics)
        self._app = Starlette(
            routes=build_routes(Handlers(self.dataplane)),
            middleware=[
                Middleware(RequestMetrics, metrics=self.metrics),
                Middleware(BodySizeLimit, max_bytes=self.settings.max_body_bytes),
            ],
            exception_handlers={
                PackError: _pack_error,
                HTTPException: _routing_error,
                Exception: _unexpected_error,
            },
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.dataplane.start()
        try:
            yield
        finally:
            await self.dataplane.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


async def _pack_error(request: Request, error: Exception) -> Response:
    status, body = http_error(error, protocol_for_path(request.url.path))
    return Response(body, status_code=status, media_type="application/json")


async def _routing_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    detail = error.detail if isinstance(error, HTTPException) else "error"
    message = f"{detail}: {request.method} {request.url.path}"
    code, body = routing_error(status, message, protocol_for_path(request.url.path))
    headers = dict(error.headers or {}) if isinstance(error, HTTPException) else {}
    return Response(body, status_code=code, headers=headers, media_type="application/json")


async def _unexpected_error(request: Request, error: Exception) -> Response:
    # Starlette re-raises after this response, so the server logs the traceback.
    status, body = http_error(error, protocol_for_path(request.url.path))
    return Response(body, status_code=status, media_type="application/json")


def create_app(models: Sequence[ModelSpec], settings: ServingSettings | None = None) -> ServingApp:
    """The ASGI app serving ``models`` (run it with any ASGI server, or ``pack serve``)."""
    return ServingApp(models, settings)


__all__ = ["ServingApp", "create_app"]
