"""Reading request bodies within the server's bounds: at most ``max_bytes``, within ``timeout`` seconds.

A body that arrives in one piece (most scoring requests) is returned as is. A longer one is read into one
growing buffer, so the body is held once, not once in pieces and again joined; a client that stalls is
cut off at the deadline with 408 and what it sent is freed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable

from starlette.types import Message, Receive

from pack.errors import InvalidInput
from pack.serving.errors import PayloadTooLarge, RequestTimeout
from pack.serving.middleware import too_large_message

Body = bytes | bytearray


class BodyReader:
    """Reads whole request bodies under a size limit and a deadline."""

    def __init__(self, max_bytes: int, timeout: float) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def read(self, receive: Receive) -> Body:
        """The whole body.

        Raises:
            PayloadTooLarge: more than ``max_bytes`` arrived.
            RequestTimeout: the body did not arrive within ``timeout`` seconds.
            InvalidInput: the client went away mid-body.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        message = await _within(receive(), self.timeout, self.timeout)
        chunk = _chunk(message)
        if not message.get("more_body", False):
            if len(chunk) > self.max_bytes:
                raise PayloadTooLarge(too_large_message(len(chunk), self.max_bytes))
            return chunk
        buffer = bytearray(chunk)  # grows in place (realloc), so the body is held once, not in pieces + joined
        while message.get("more_body", False):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise RequestTimeout(_late(self.timeout))
            message = await _within(receive(), remaining, self.timeout)
            buffer += _chunk(message)
            if len(buffer) > self.max_bytes:
                raise PayloadTooLarge(too_large_message(len(buffer), self.max_bytes))
        return buffer


def _late(limit: float) -> str:
    return f"the request body did not arrive within {limit:g} s (pack serve --body-timeout)"


def _chunk(message: Message) -> bytes:
    if message["type"] == "http.disconnect":
        raise InvalidInput("the client disconnected before sending the whole body")
    body: bytes = message.get("body", b"")
    return body


if sys.version_info >= (3, 11):

    async def _within(pending: Awaitable[Message], seconds: float, limit: float) -> Message:
        try:
            async with asyncio.timeout(seconds):
                return await pending
        except TimeoutError:
            raise RequestTimeout(_late(limit)) from None

else:  # pragma: no cover

    async def _within(pending: Awaitable[Message], seconds: float, limit: float) -> Message:
        try:
            return await asyncio.wait_for(pending, seconds)
        except asyncio.TimeoutError:
            raise RequestTimeout(_late(limit)) from None


__all__ = ["Body", "BodyReader"]
