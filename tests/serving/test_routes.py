"""The scoring fast lane: paths matched as Starlette's router would, and a bounded memory of them."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route, Router

from pack.serving import routes
from pack.serving.routes import Dispatch, Endpoint, scoring_route


def _dispatch() -> Dispatch:
    async def handle(scope: Any, body: Any) -> Any:
        raise AssertionError("not called")

    endpoint = Endpoint(None, handle)  # type: ignore[arg-type]  # never called here
    paths = ["/invocations", "/invocations/{name}", "/v2/models/{name}/infer"]
    paths.append("/v2/models/{name}/versions/{version}/infer")
    return Dispatch(Router([Route(path, endpoint, methods=["POST"]) for path in paths]))


def test_scoring_paths_match_as_the_router_does() -> None:
    assert scoring_route("/invocations") == ("/invocations", {})
    assert scoring_route("/invocations/rf") == ("/invocations/{name}", {"name": "rf"})
    assert scoring_route("/v2/models/rf/infer") == ("/v2/models/{name}/infer", {"name": "rf"})
    found = scoring_route("/v2/models/rf/versions/2/infer")
    assert found == ("/v2/models/{name}/versions/{version}/infer", {"name": "rf", "version": "2"})
    for path in ("/invocations/", "/invocations/a/b", "/v2/models//infer", "/v2/models/a/b/infer", "/ping"):
        assert scoring_route(path) is None


def test_matched_paths_are_remembered_up_to_a_bound() -> None:
    dispatch = _dispatch()
    for number in range(routes._MAX_KNOWN_PATHS + 500):  # clients choose paths: the memory must not grow
        found = dispatch._match(f"/v2/models/m{number}/infer")
        assert found is not None and found[1] == {"name": f"m{number}"}
    assert len(dispatch.known) == routes._MAX_KNOWN_PATHS
    assert dispatch._match("/v2/models/a/b/infer") is None and "/v2/models/a/b/infer" not in dispatch.known
