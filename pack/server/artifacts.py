"""The artifact proxy (MLflow's ``mlflow-artifacts`` API) and the artifact routes of the UI.

``PUT .../mlflow-artifacts/artifacts/<path>`` streams the body into the artifacts destination (a
local file appears whole or not at all), ``GET`` streams a file back with ``Content-Disposition``
and ``nosniff``, ``GET .../mlflow-artifacts/artifacts?path=<dir>`` lists a directory relative to it.
Neither direction holds a file in memory. Paths are checked by the one path guard (no ``..``, no
absolute paths). ``/get-artifact`` (run files) and ``/model-versions/get-artifact`` (registered
versions' files, verified first) serve the web UI.
"""

from __future__ import annotations

import mimetypes
import uuid
from typing import Any
from urllib.parse import quote, unquote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from pack._fs import safe_relpath
from pack.errors import InvalidInput, InvalidModel, NotFound
from pack.server import wire
from pack.server.errors import Conflict
from pack.server.http import query_pairs, send_json, stream_body
from pack.server.locations import ArtifactLocations
from pack.server.params import Params
from pack.store.artifacts import FsspecArtifactStore
from pack.store.artifacts.base import ArtifactStore

PROXY_PREFIXES = ("/api/2.0/mlflow-artifacts/artifacts", "/ajax-api/2.0/mlflow-artifacts/artifacts")
CHUNK = 1 << 20


def proxy_path(path: str) -> str | None:
    """The artifact path of a proxy URL path (``""`` for the listing route), or None for other paths."""
    for prefix in PROXY_PREFIXES:
        if path == prefix:
            return ""
        if path.startswith(prefix + "/"):
            return unquote(path[len(prefix) + 1 :])
    return None


class ArtifactProxy:
    """Streams artifacts between clients and the destination store."""

    def __init__(self, locations: ArtifactLocations, max_upload_bytes: int, idle_timeout: float) -> None:
        self.locations = locations
        self.max_upload_bytes = max_upload_bytes
        self.idle_timeout = idle_timeout

    @property
    def store(self) -> FsspecArtifactStore:
        """The destination.

        Raises:
            HTTPException: the server does not serve artifacts (404).
        """
        if self.locations.store is None:
            raise HTTPException(404, "this server does not serve artifacts (pack server --serve-artifacts)")
        return self.locations.store

    async def list(self, scope: Scope, send: Send) -> None:
        """``GET ...?path=<dir>``: one level of a directory, names relative to it (``{}`` for a file)."""
        path = safe_relpath(Params(query_pairs(scope), b"").text("path") or "")
        files = await run_in_threadpool(listing, self.store, path)
        await send_json(send, 200, wire.compact({"files": [wire.file_info(f) for f in files]}))

    async def download(self, scope: Scope, send: Send, path: str) -> None:
        """``GET <path>``: the file, streamed."""
        await send_file(send, self.store, safe_relpath(path), scope["method"] == "HEAD")

    async def upload(self, receive: Receive, send: Send, path: str) -> None:
        """``PUT <path>``: the body becomes the file (replacing it), streamed to storage."""
        rel = safe_relpath(path)
        if not rel:
            raise InvalidInput("an artifact upload needs a file path")
        store = self.store
        partial = f"{rel}.tmp-{uuid.uuid4().hex[:12]}" if store.is_local else rel
        handle = await run_in_threadpool(store.open, partial, "wb")
        try:
            pending: list[bytes] = []
            size = 0
            async for chunk in stream_body(receive, self.max_upload_bytes, self.idle_timeout):
                pending.append(chunk)
                size += len(chunk)
                if size >= CHUNK:
                    await run_in_threadpool(handle.write, b"".join(pending))
                    pending, size = [], 0
            if pending:
                await run_in_threadpool(handle.write, b"".join(pending))
            await run_in_threadpool(handle.close)
            if partial != rel:
                await run_in_threadpool(store.move, partial, rel)
        except BaseException:
            await run_in_threadpool(_abandon, store, handle, partial)
            raise
        await send_json(send, 200, {})

    async def delete(self, send: Send, path: str) -> None:
        """``DELETE <path>``: remove a file or directory."""
        rel = safe_relpath(path)
        if not rel:
            raise InvalidInput("refusing to delete the artifact root")
        await run_in_threadpool(self.store.delete, rel)
        await send_json(send, 200, {})


def listing(store: ArtifactStore, path: str) -> list[Any]:
    """The entries of directory ``path``, named relative to it (none when ``path`` is a file)."""
    entries = store.ls(path)
    if len(entries) == 1 and entries[0].path == path and not entries[0].is_dir:
        return []
    base = f"{path}/" if path else ""
    return [wire_relative(entry, base) for entry in entries]


def wire_relative(entry: Any, base: str) -> Any:
    """``entry`` with its path made relative to ``base``."""
    from dataclasses import replace

    return replace(entry, path=entry.path[len(base) :] if entry.path.startswith(base) else entry.path)


def _abandon(store: FsspecArtifactStore, handle: Any, partial: str) -> None:
    try:
        handle.close()
    finally:
        if store.is_local:
            store.delete(partial)


async def send_file(send: Send, store: ArtifactStore, path: str, head_only: bool = False) -> None:
    """Stream the file at ``path`` of ``store`` with MLflow's download headers.

    Raises:
        NotFound: no such file.
    """
    if not isinstance(store, FsspecArtifactStore):
        raise InvalidInput(f"cannot stream from {store.url}")
    size = await run_in_threadpool(store.size, path) if path else None
    if size is None:
        raise NotFound(f"no artifact file {path!r}")
    name = path.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in ("application/json", "application/x-yaml"):
        content_type += "; charset=utf-8"
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(size).encode()),
        (b"content-disposition", f'attachment; filename="{quote(name)}"'.encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    handle = None if head_only else await run_in_threadpool(store.open, path, "rb")
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if handle is None:
        await send({"type": "http.response.body", "body": b""})
        return
    try:
        while True:
            chunk = await run_in_threadpool(handle.read, CHUNK)
            more = len(chunk) == CHUNK
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if not more:
                return
    finally:
        await run_in_threadpool(handle.close)


async def run_artifact(scope: Scope, send: Send, locations: ArtifactLocations, tracking: Any) -> None:
    """``GET /get-artifact?run_id=&path=``: a run's file (the UI's preview)."""
    params = Params(query_pairs(scope), b"")
    run = await run_in_threadpool(tracking.get_run, params.run_id())
    locations.check_readable(run.info.artifact_uri)
    store = await run_in_threadpool(locations.open, run.info.artifact_uri)
    await send_file(send, store, safe_relpath(params.need("path")))


async def version_artifact(scope: Scope, send: Send, locations: ArtifactLocations, registry: Any) -> None:
    """``GET /model-versions/get-artifact?name=&version=&path=``: a registered version's file, verified."""
    params = Params(query_pairs(scope), b"")
    version = await run_in_threadpool(registry.get_model_version, params.need("name"), params.need("version"))
    try:
        local, _ = await run_in_threadpool(registry.resolver.fetch, version)
    except InvalidModel as exc:
        raise Conflict(str(exc)) from exc
    await send_file(send, FsspecArtifactStore(str(local)), safe_relpath(params.need("path")))


__all__ = ["PROXY_PREFIXES", "ArtifactProxy", "listing", "proxy_path", "run_artifact", "send_file", "version_artifact"]
