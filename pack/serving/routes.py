"""The flat route table and its thin handlers: HTTP in, dataplane call, HTTP out.

Handlers raise ``pack.errors`` exceptions; ``ErrorResponses`` turns them into JSON bodies through
``pack.serving.errors``. The two scoring routes are plain ASGI endpoints (no Request/Response
objects on the hot path); the rest use Starlette's request/response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from pack._version import __version__
from pack.serving import codecs, docs, v2
from pack.serving.bodies import Body, BodyReader
from pack.serving.dataplane import DataPlane, ServedModel
from pack.serving.errors import Overloaded, UnsupportedMediaType, error_body
from pack.serving.middleware import MODEL_SCOPE_KEY, header
from pack.serving.openapi import dumps_openapi

JSON = "application/json"
RawHeaders = list[tuple[bytes, bytes]]
Answer = tuple[bytes, RawHeaders]
_JSON_HEADERS: RawHeaders = [(b"content-type", b"application/json")]
_JSON_TYPE = {"content-type": JSON}
_HEADER_LENGTH = v2.HEADER_LENGTH.encode()
# Scoring paths already matched (at most this many kept: paths come from clients).
_MAX_KNOWN_PATHS = 1024


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=JSON)


class Endpoint:
    """An ASGI scoring endpoint around ``handle(scope, body) -> (content, raw headers)``, answering 200.

    It admits at most ``Handlers.max_active`` requests at once (503 with Retry-After past that, before
    the body is read) and reads the body within the server's size and time bounds.
    """

    def __init__(self, handlers: Handlers, handle: Callable[[Scope, Body], Awaitable[Answer]]) -> None:
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
            content, headers = await self.handle(scope, body)
        finally:
            handlers.active -= 1
        raw = [*headers, (b"content-length", b"%d" % len(content))]
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

    async def invocations(self, scope: Scope, body: Body) -> Answer:
        served = self._model(scope)
        content_type = header(scope, b"content-type")
        schema = served.input_schema
        predictions = await self.dataplane.predict(served, lambda: codecs.decode(content_type, body, schema), len(body))
        return codecs.encode(predictions), _JSON_HEADERS

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

    async def v2_infer(self, scope: Scope, body: Body) -> Answer:
        served = self._model(scope)
        encoding = (header(scope, b"content-encoding") or "identity").lower()
        if encoding != "identity":
            raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported")
        header_length = header(scope, _HEADER_LENGTH)
        parsed: list[v2.InferRequest] = []

        def decode() -> tuple[Any, Any]:
            infer = v2.parse_infer(body, header_length, served.v2_inputs, served.v2_param_names)
            parsed.append(infer)
            return infer.data, infer.params

        predictions = await self.dataplane.predict(served, decode, len(body))
        content, headers = v2.encode_infer(parsed[0], served.name, served.version, predictions, served.v2_outputs)
        if headers == _JSON_TYPE:
            return content, _JSON_HEADERS
        return content, [(key.encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]

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


class Dispatch:
    """The route table with a fast lane for the scoring routes.

    ``POST /invocations[/NAME]`` and ``POST /v2/models/NAME[/versions/VERSION]/infer`` go straight to
    their endpoint (Starlette's router tries each route's pattern in turn); everything else, and a
    scoring path with another method, goes through the router, which answers 404 and 405.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self.scoring = {
            route.path: route
            for route in router.routes
            if isinstance(route, Route) and isinstance(route.endpoint, Endpoint)
        }
        self.known: dict[str, tuple[Route, dict[str, str]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            found = self.known.get(path)
            if found is None:
                found = self._match(path)
            if found is not None:
                route, params = found
                scope["route"], scope["endpoint"], scope["path_params"] = route, route.endpoint, dict(params)
                await route.endpoint(scope, receive, send)
                return
        await self.router(scope, receive, send)

    def _match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        found = scoring_route(path)
        route = self.scoring.get(found[0]) if found is not None else None
        if found is None or route is None:
            return None
        if len(self.known) < _MAX_KNOWN_PATHS:
            self.known[path] = (route, found[1])
        return route, found[1]


def scoring_route(path: str) -> tuple[str, dict[str, str]] | None:
    """The template and path parameters of a scoring route's path (as Starlette's ``{name}`` matches:
    one non-empty segment), or None."""
    if path == "/invocations":
        return path, {}
    if path.startswith("/invocations/"):
        name = path[len("/invocations/") :]
        return ("/invocations/{name}", {"name": name}) if name and "/" not in name else None
    if path.startswith("/v2/models/") and path.endswith("/infer"):
        parts = path[len("/v2/models/") : -len("/infer")].split("/")
        if len(parts) == 1 and parts[0]:
            return "/v2/models/{name}/infer", {"name": parts[0]}
        if len(parts) == 3 and parts[1] == "versions" and parts[0] and parts[2]:
            return "/v2/models/{name}/versions/{version}/infer", {"name": parts[0], "version": parts[2]}
    return None


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


__all__ = ["Dispatch", "Endpoint", "Handlers", "build_routes", "scoring_route"]
