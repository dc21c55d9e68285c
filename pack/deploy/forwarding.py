"""The proxy's HTTP forwarding: an ASGI app that sends each request to the current target.

Each request goes to the current target over a pooled keep-alive connection (h11 over asyncio
streams), so a switch moves the very next request, client connections stay open across it, and
requests in flight on the old target finish there. A pooled connection the target closed in the
meantime is retried once on a fresh one. The target is switched through a Unix socket (``switch``
answers once the old target's requests have finished, or when the drain timeout is over) and kept
in a file, so a restarted proxy resumes where it was.

Bounds: request bodies (413 above), the time a target may take to answer (504), the time to connect
to it (502), idle upstream connections per target.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

STATE_DIR = Path(os.environ.get("PACK_PROXY_STATE", "/tmp/pack-proxy"))
MAX_IDLE_PER_TARGET = 64
CONNECT_TIMEOUT = 10.0
_TARGET = re.compile(r"^[A-Za-z0-9_.-]+:\d{1,5}$")
# Headers that belong to one connection, not to the request (RFC 9110 7.6.1), plus the ones we rewrite.
_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
}

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


def check_target(target: str) -> str:
    """``HOST:PORT`` or a ``ValueError``."""
    if not _TARGET.match(target):
        raise ValueError(f"target must be HOST:PORT, got {target!r}")
    return target


class Outgoing(NamedTuple):
    """A request as it goes to the target."""

    method: bytes
    path: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Upstream:
    """One HTTP/1.1 keep-alive connection to a target (h11 over asyncio streams)."""

    def __init__(self, reader: Any, writer: Any) -> None:
        import h11

        self.reader = reader
        self.writer = writer
        self.connection = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, target: str) -> Upstream:
        import asyncio

        host, port = target.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    @property
    def stale(self) -> bool:
        """The target closed it while it sat idle."""
        return bool(self.reader.at_eof() or self.writer.is_closing())

    async def request(self, outgoing: Outgoing) -> Any:
        """Send one request; return h11's ``Response`` (the body follows from ``body()``)."""
        import h11

        request = h11.Request(method=outgoing.method, target=outgoing.path, headers=outgoing.headers)
        data = self.connection.send(request)
        if outgoing.body:
            data += self.connection.send(h11.Data(data=outgoing.body))
        data += self.connection.send(h11.EndOfMessage())
        self.writer.write(data)
        await self.writer.drain()
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Response):
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the target closed the connection before answering")

    async def body(self) -> AsyncIterator[bytes]:
        """The response body, chunk by chunk."""
        import h11

        while True:
            event = await self._next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return

    @property
    def reusable(self) -> bool:
        """Both sides finished the exchange and neither asked to close: start the next cycle."""
        import h11

        if self.connection.our_state is h11.DONE and self.connection.their_state is h11.DONE:
            self.connection.start_next_cycle()
            return True
        return False

    async def _next_event(self) -> Any:
        import h11

        while True:
            event = self.connection.next_event()
            if event is not h11.NEED_DATA:
                return event
            self.connection.receive_data(await self.reader.read(65536))

    def close(self) -> None:
        self.writer.close()


class Proxy:
    """The ASGI app: forwards every HTTP request to ``self.target``; admin over a Unix socket."""

    def __init__(self, target: str, max_body: int, timeout: float, state_dir: Path = STATE_DIR) -> None:
        self.state_dir = state_dir
        saved = state_dir / "target"
        self.target = saved.read_text().strip() if saved.is_file() else check_target(target)
        self.max_body = max_body
        self.timeout = timeout
        self.in_flight: dict[str, int] = {}
        self.idle: dict[str, list[Upstream]] = {}
        self._admin: Any = None
        self._changed: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    # ---- lifespan and admin --------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        import asyncio

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._changed = asyncio.Condition()
                self.state_dir.mkdir(parents=True, exist_ok=True)
                self._persist()
                sock = self.state_dir / "admin.sock"
                sock.unlink(missing_ok=True)
                self._admin = await asyncio.start_unix_server(self._on_admin, path=str(sock))
                os.chmod(sock, 0o600)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._admin is not None:
                    self._admin.close()
                    (self.state_dir / "admin.sock").unlink(missing_ok=True)
                for pool in self.idle.values():
                    for upstream in pool:
                        upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _persist(self) -> None:
        tmp = self.state_dir / "target.tmp"
        tmp.write_text(self.target)
        tmp.replace(self.state_dir / "target")

    async def _on_admin(self, reader: Any, writer: Any) -> None:
        try:
            request = json.loads(await reader.readline() or b"{}")
            if request.get("op") == "switch":
                reply = await self.switch(check_target(str(request.get("target"))), float(request.get("drain", 30)))
            else:
                reply = {"target": self.target, "in_flight": {k: v for k, v in self.in_flight.items() if v}}
        except (ValueError, TypeError) as exc:
            reply = {"error": str(exc)}
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()
        writer.close()

    async def switch(self, target: str, drain: float) -> dict[str, Any]:
        """Send new requests to ``target``; wait (up to ``drain`` s) for the old target's to finish."""
        import asyncio

        previous, self.target = self.target, target
        self._persist()

        def drained() -> bool:
            return all(count == 0 for name, count in self.in_flight.items() if name != target)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(drained), timeout=drain)
                done = True
            except asyncio.TimeoutError:
                done = False
        for name in [name for name in self.idle if name != target]:
            for upstream in self.idle.pop(name):
                upstream.close()
        return {"target": target, "previous": previous, "drained": done}

    # ---- forwarding ----------------------------------------------------------------------------

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = await self._read_body(receive)
        if body is None:
            await _error(send, 413, "REQUEST_TOO_LARGE", f"the request body is over {self.max_body} bytes")
            return
        target = self.target
        self.in_flight[target] = self.in_flight.get(target, 0) + 1
        try:
            await self._forward(target, scope, body, send)
        finally:
            self.in_flight[target] -= 1
            async with self._changed:
                self._changed.notify_all()

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        too_large = False
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                too_large = True  # keep reading (and dropping) so the client sees the answer
            else:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return None if too_large else b"".join(chunks)

    async def _forward(self, target: str, scope: dict[str, Any], body: bytes, send: Send) -> None:
        path = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            path += b"?" + scope["query_string"]
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        headers += [(b"host", target.encode()), (b"content-length", str(len(body)).encode())]
        if scope.get("client"):
            headers.append((b"x-forwarded-for", str(scope["client"][0]).encode()))
        exchanged = await self._exchange(target, Outgoing(scope["method"].encode(), path, headers, body), send)
        if exchanged is None:
            return
        upstream, response = exchanged
        dropped = _HOP_BY_HOP - {b"content-length"}
        out_headers = [(k.lower(), v) for k, v in response.headers if k.lower() not in dropped]
        await send({"type": "http.response.start", "status": response.status_code, "headers": out_headers})
        try:
            async for chunk in upstream.body():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except BaseException:
            upstream.close()
            raise
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if upstream.reusable and len(self.idle.setdefault(target, [])) < MAX_IDLE_PER_TARGET:
            self.idle[target].append(upstream)
        else:
            upstream.close()

    async def _exchange(self, target: str, outgoing: Outgoing, send: Send) -> tuple[Upstream, Any] | None:
        """Send the request; the connection and h11's ``Response``, or None once an error was answered."""
        import asyncio

        import h11

        for attempt in (1, 2):
            upstream: Upstream | None = None
            reused = False
            try:
                connection, reused = await asyncio.wait_for(self._connection(target), CONNECT_TIMEOUT)
                upstream = connection
                response = await asyncio.wait_for(connection.request(outgoing), self.timeout)
                return connection, response
            except asyncio.TimeoutError:
                if upstream is not None:
                    upstream.close()
                await _error(send, 504, "GATEWAY_TIMEOUT", f"{target} did not answer within {self.timeout:g} s")
                return None
            except (OSError, h11.ProtocolError) as exc:
                if upstream is not None:
                    upstream.close()
                if reused and attempt == 1:
                    continue  # a pooled connection the target had closed: once more on a fresh one
                await _error(send, 502, "BAD_GATEWAY", f"the model server {target} is unreachable: {exc}")
                return None
        return None

    async def _connection(self, target: str) -> tuple[Upstream, bool]:
        pool = self.idle.get(target, [])
        while pool:
            upstream = pool.pop()
            if not upstream.stale:
                return upstream, True
            upstream.close()
        return await Upstream.open(target), False


async def _error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error_code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


__all__ = ["STATE_DIR", "Outgoing", "Proxy", "Upstream", "check_target"]
