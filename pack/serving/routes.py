"""The flat route table and its thin handlers: HTTP in, dataplane call, HTTP out.

Handlers raise ``pack.errors`` exceptions; ``ErrorResponses`` turns them into JSON bodies through
``pack.serving.errors``. The two scoring routes are plain ASGI endpoints (no Request/Response
objects on the hot path); the rest use Starlette's request/response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from pack._version import __version__
from pack.serving import codecs, docs, v2
from pack.serving.bodies import Body, BodyReader
from pack.serving.dataplane import DataPlane, ServedModel
from pack.serving.errors import Overloaded, UnsupportedMediaType, error_body
from pack.serving.middleware import MODEL_SCOPE_KEY
from pack.serving.openapi import dumps_openapi

JSON = "application/json"
Answer = tuple[bytes, dict[str, str]]


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=JSON)


class Endpoint:
    """An ASGI scoring endpoint around ``handle(scope, headers, body) -> (content, headers)``, answering 200.

    It admits at most ``Handlers.max_active`` requests at once (503 with Retry-After past that, before
    the body is read) and reads the body within the server's size and time bounds.
    """

    def __init__(self, handlers: Handlers, handle: Callable[[Scope, Headers, Body], Awaitable[Answer]]) -> None:
        self.handlers = handlers
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handlers = self.handlers
        if handlers.active >= handlers.max_active:
            handlers.dataplane.metrics.rejected.labels("", "", "concurrency").inc()
            raise Overloaded(f"the server is handling {handlers.max_active} requests (--max-concurrency); retry")
        handlers.active += 1
        try:
            body = await handlers.reader.read(receive)
            content, headers = await self.handle(scope, Headers(scope=scope), body)
        finally:
            handlers.active -= 1
        raw = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]
        raw.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": content})


class Handlers:
    """Every endpoint of the server, over one dataplane."""

    def __init__(self, dataplane: DataPlane) -> None:
        settings = dataplane.settings
        self.dataplane = dataplane
        self.reader = BodyReader(settings.max_body_bytes, settings.body_timeout)
        self.max_active = settings.max_concurrency
        self.active = 0
        self._openapi: bytes | None = None

    def _model(self, scope: Scope) -> ServedModel:
        params = scope.get("path_params", {})
        name = params.get("name")
        served = self.dataplane.get(name, params.get("version")) if name else self.dataplane.only()
        scope[MODEL_SCOPE_KEY] = (served.name, served.version)
        return served

    # -- MLflow scoring protocol ----------------------------------------------------------------

    async def invocations(self, scope: Scope, headers: Headers, body: Body) -> Answer:
        served = self._model(scope)
        content_type = headers.get("content-type")
        schema = served.input_schema
        predictions = await self.dataplane.predict(served, lambda: codecs.decode(content_type, body, schema), len(body))
        return codecs.encode(predictions), {"content-type": JSON}

    async def ping(self, request: Request) -> Response:
        if self.dataplane.ready:
            return Response("\n", media_type=JSON)  # MLflow's body
        return Response(
            error_body("TEMPORARILY_UNAVAILABLE", f"not ready ({self._states()})", "mlflow"),
            status_code=503,
            media_type=JSON,
        )

    def _states(self) -> str:
        stalled = {m.name: seconds for m, seconds in self.dataplane.stalled()}
        states = []
        for m in self.dataplane.models:
            state = f"predicting for {stalled[m.name]:.0f} s" if m.name in stalled else m.state.value
            states.append(f"{m.name} v{m.version}: {state}")
        return ", ".join(states)

    async def version(self, request: Request) -> Response:
        return Response(__version__, media_type="text/plain")

    # -- Open Inference Protocol (V2) -----------------------------------------------------------

    async def v2_server(self, request: Request) -> Response:
        return _json(v2.server_metadata())

    async def v2_live(self, request: Request) -> Response:
        live = self.dataplane.live
        return _json({"live": live}, 200 if live else 503)

    async def v2_ready(self, request: Request) -> Response:
        ready = self.dataplane.ready
        return _json({"ready": ready}, 200 if ready else 503)

    async def v2_models(self, request: Request) -> Response:
        return _json({"models": sorted({m.name for m in self.dataplane.models})})

    async def v2_model(self, request: Request) -> Response:
        served = self._model(request.scope)
        versions = self.dataplane.versions(served.name)
        return _json(v2.model_metadata(served.name, versions, served.mlmodel.flavors, served.signature))

    async def v2_model_ready(self, request: Request) -> Response:
        served = self._model(request.scope)
        return _json({"name": served.name, "ready": served.ready}, 200 if served.ready else 503)

    async def v2_infer(self, scope: Scope, headers: Headers, body: Body) -> Answer:
        served = self._model(scope)
        encoding = headers.get("content-encoding", "identity").lower()
        if encoding != "identity":
            raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported")
        header_length = headers.get(v2.HEADER_LENGTH)
        signature = served.signature
        schema = signature.inputs if signature is not None else None
        params = signature.params if signature is not None else None
        param_names = frozenset(p.name for p in params) if params is not None else frozenset()
        parsed: list[v2.InferRequest] = []

        def decode() -> tuple[Any, Any]:
            infer = v2.parse_infer(body, header_length, schema, param_names)
            parsed.append(infer)
            return infer.data, infer.params

        predictions = await self.dataplane.predict(served, decode, len(body))
        outputs = signature.outputs if signature is not None else None
        return v2.encode_infer(parsed[0], served.name, served.version, predictions, outputs)

    # -- operations -----------------------------------------------------------------------------

    async def metrics(self, request: Request) -> Response:
        content, media_type = self.dataplane.metrics.render()
        return Response(content, headers={"content-type": media_type})

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            self._openapi = dumps_openapi(self.dataplane)
        return Response(self._openapi, media_type=JSON)

    async def docs_page(self, request: Request) -> Response:
        return Response(docs.PAGE, media_type="text/html")

    async def docs_asset(self, request: Request) -> Response:
        content, media_type = docs.asset(request.path_params["file"])
        return Response(content, headers={"content-type": media_type, "cache-control": "max-age=86400"})


def build_routes(handlers: Handlers) -> list[BaseRoute]:
    """Every route of the server (the hot scoring routes first)."""
    h = handlers
    post, get = ["POST"], ["GET"]
    return [
        Route("/invocations", Endpoint(h, h.invocations), methods=post),
        Route("/invocations/{name}", Endpoint(h, h.invocations), methods=post),
        Route("/v2/models/{name}/infer", Endpoint(h, h.v2_infer), methods=post),
        Route("/v2/models/{name}/versions/{version}/infer", Endpoint(h, h.v2_infer), methods=post),
        Route("/ping", h.ping, methods=get),
        Route("/health", h.ping, methods=get),
        Route("/version", h.version, methods=get),
        Route("/v2", h.v2_server, methods=get),
        Route("/v2/health/live", h.v2_live, methods=get),
        Route("/v2/health/ready", h.v2_ready, methods=get),
        Route("/v2/models", h.v2_models, methods=get),
        Route("/v2/models/{name}", h.v2_model, methods=get),
        Route("/v2/models/{name}/ready", h.v2_model_ready, methods=get),
        Route("/v2/models/{name}/versions/{version}", h.v2_model, methods=get),
        Route("/v2/models/{name}/versions/{version}/ready", h.v2_model_ready, methods=get),
        Route("/metrics", h.metrics, methods=get),
        Route("/openapi.json", h.openapi, methods=get),
        Route("/docs", h.docs_page, methods=get),
        Route("/docs/static/{file}", h.docs_asset, methods=get),
    ]


__all__ = ["Endpoint", "Handlers", "build_routes"]
