"""The ASGI application: the route table inside pure ASGI middleware, around one dataplane."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from pack.serving.dataplane import DataPlane
from pack.serving.metrics import ServingMetrics
from pack.serving.middleware import ErrorResponses, JsonCORSMiddleware, RequestGuard, RequestMetrics
from pack.serving.routes import Dispatch, Handlers, build_routes
from pack.serving.settings import ModelSpec, ServingSettings


class ServingApp:
    """The scoring server as an ASGI app. Models start loading when the app starts (lifespan).

    Layers, outside in: request metrics; request ids and JSON error responses; CORS (only when
    origins are allowed); the Host, bearer-token and declared-size checks; the routes (scoring routes
    admit a bounded number of requests and read bodies within size and time bounds).

    Args:
        models: what to serve.
        settings: the server's settings (``ServingSettings()``: defaults and ``PACK_SERVE_*``).
        on_load_failure: called when a model fails to load (``pack serve`` stops the process).
        on_loaded: called once every model is loaded and warmed up.
    """

    def __init__(
        self,
        models: Sequence[ModelSpec],
        settings: ServingSettings | None = None,
        on_load_failure: Callable[[], None] | None = None,
        on_loaded: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else ServingSettings()
        self.metrics = ServingMetrics()
        self.dataplane = DataPlane(models, self.settings, self.metrics, on_load_failure, on_loaded)
        settings = self.settings
        router = Router(routes=build_routes(Handlers(self.dataplane)), lifespan=self._lifespan)
        token = settings.auth_token.get_secret_value() if settings.auth_token is not None else None
        app: ASGIApp = RequestGuard(Dispatch(router), settings.hosts, token, settings.max_body_bytes)
        if settings.cors_allowed_origins:
            app = JsonCORSMiddleware(
                app,
                allow_origins=list(settings.cors_allowed_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id", "inference-header-content-length"],
                expose_headers=["x-request-id", "inference-header-content-length"],
            )
        self._app = RequestMetrics(ErrorResponses(app, settings.expose_errors), metrics=self.metrics)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Any) -> AsyncIterator[None]:
        self.dataplane.start()
        try:
            yield
        finally:
            await self.dataplane.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self  # Starlette's router then raises HTTPException for 404/405 (made JSON)
        await self._app(scope, receive, send)


def create_app(models: Sequence[ModelSpec], settings: ServingSettings | None = None) -> ServingApp:
    """The ASGI app serving ``models`` (run it with any ASGI server, or ``pack serve``)."""
    return ServingApp(models, settings)


__all__ = ["ServingApp", "create_app"]
