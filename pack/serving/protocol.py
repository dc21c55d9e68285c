"""uvicorn's httptools HTTP protocol with the server's connection rules.

* TCP_NODELAY on every accepted connection: with several workers uvicorn serves a socket it did not
  create and leaves it unset, so each response waited ~40 ms for a delayed ACK (uvicorn issue #3149).
* A deadline for the request headers: from the moment a connection opens (or its last response was
  sent) the client has ``timeout_keep_alive`` seconds to finish the next request's headers; a client
  trickling header bytes (slowloris) is cut off. uvicorn's own keep-alive timer restarts on every byte.
* A malformed request gets a JSON 400 body, like every other error of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol


def set_nodelay(transport: Any) -> None:
    """Turn off Nagle's algorithm on a TCP transport (no-op for other transports)."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):  # the peer may already be gone
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ServingHTTPProtocol(HttpToolsProtocol):  # type: ignore[misc]
    """See the module docstring."""

    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        set_nodelay(transport)
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._arm_header_deadline()

    def send_400_response(self, msg: str) -> None:
        body = orjson.dumps({"error_code": "BAD_REQUEST", "message": msg})
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.transport.write(b"".join(head) + body)
        self.transport.close()

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(self.timeout_keep_alive, self._header_deadline_passed)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


__all__ = ["ServingHTTPProtocol", "set_nodelay"]
