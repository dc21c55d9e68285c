"""Raw ASGI helpers: bounded request bodies (size and time), JSON responses, streamed files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from starlette.types import Receive, Send

from pack.server.errors import PayloadTooLarge, RequestTimeout

JSON_HEADERS = ((b"content-type", b"application/json"),)


async def read_body(receive: Receive, limit: int, timeout: float) -> bytes:
    """The whole request body: at most ``limit`` bytes, within ``timeout`` seconds.

    Raises:
        PayloadTooLarge: the body is longer. RequestTimeout: the client is too slow.
    """
    parts: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    while True:
        message = await _receive(receive, deadline - time.monotonic())
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large(limit))
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


async def stream_body(receive: Receive, limit: int, idle_timeout: float) -> AsyncIterator[bytes]:
    """The request body chunk by chunk: at most ``limit`` bytes in all, each chunk within
    ``idle_timeout`` seconds of the one before.

    Raises:
        PayloadTooLarge: the body is longer. RequestTimeout: the client stalls.
    """
    size = 0
    while True:
        message = await _receive(receive, idle_timeout)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large(limit))
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _receive(receive: Receive, seconds: float) -> Mapping[str, Any]:
    """The next body message, within ``seconds`` (a timer per message: ``asyncio.wait_for`` would start
    a task for each of an upload's thousands of chunks)."""
    task = asyncio.current_task()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        if task is not None:
            task.cancel()

    timer = asyncio.get_running_loop().call_later(max(seconds, 0.001), expire)
    try:
        message = await receive()
    except asyncio.CancelledError:
        if not expired:
            raise
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+: take back our own cancellation
        if uncancel is not None:
            uncancel()
        raise RequestTimeout("the request body did not arrive in time") from None
    finally:
        timer.cancel()
    if message["type"] == "http.disconnect":
        raise RequestTimeout("the client disconnected before sending the whole body")
    return message


def too_large(limit: int) -> str:
    """The message for a body over ``limit`` bytes."""
    return f"the request body is larger than the limit of {limit} bytes"


async def send_json(
    send: Send, status: int, document: Any, headers: Mapping[str, str] | None = None, *, encoded: bool = False
) -> None:
    """Send a complete JSON response (``document`` already bytes when ``encoded``)."""
    body = document if encoded else orjson.dumps(document)
    raw = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    raw.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items())
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def query_pairs(scope: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query string's ``(name, value)`` pairs, decoded."""
    from urllib.parse import parse_qsl

    raw = scope.get("query_string", b"")
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if raw else []


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """One request header (the first), decoded, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


__all__ = ["header", "query_pairs", "read_body", "send_json", "stream_body", "too_large"]
