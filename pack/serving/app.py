"""The ASGI application: the route table inside pure ASGI middleware, around one dataplane."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from pack.serving.dataplane import DataPlane
from pack.serving.metrics import ServingMetrics
from pack.serving.middleware import BodySizeLimit, ErrorResponses, RequestMetrics
from pack.serving.routes import Handlers, build_routes
from pack.serving.settings import ModelSpec, ServingSettings


class ServingApp:
    """The scoring server as an ASGI app. Models start loading when the app starts (lifespan).

    Layers, outside in: request metrics, JSON error responses, the body size limit, the routes.
    """

    def __init__(self, models: Sequence[ModelSpec], settings: ServingSettings | None = None) -> None:
        self.settings = settings if settings is not None else ServingSettings()
        self.metrics = ServingMetrics()
        self.dataplane = DataPlane(models, self.settings, self.metrics)
        router = Router(routes=build_routes(Handlers(self.dataplane)), lifespan=self._lifespan)
        limited = BodySizeLimit(router, max_bytes=self.settings.max_body_bytes)
        self._app = RequestMetrics(ErrorResponses(limited), metrics=self.metrics)

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
