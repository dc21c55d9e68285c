"""The only place HTTP statuses live: ``pack.errors`` families -> status code and JSON body.

Scoring routes answer MLflow's error form ``{"error_code": "...", "message": "..."}``; the Open
Inference Protocol (V2) routes answer ``{"error": "..."}``; both carry ``request_id``. Bad input is
4xx with a message naming what is wrong. A model's fault is 500 naming only the exception class and
the request id: the model's own message (which may hold paths or secrets) and the traceback stay in the
server log under that id, unless the server runs with ``--expose-errors``.
"""

from __future__ import annotations

from typing import Literal

import orjson

from pack.errors import InvalidInput, ModelError, NotFound, PackError, SchemaError

Protocol = Literal["mlflow", "v2"]


class UnsupportedMediaType(InvalidInput):
    """The request's content type is not one the route reads."""


class PayloadTooLarge(InvalidInput):
    """The request body is larger than the server accepts."""


class RequestTimeout(InvalidInput):
    """The client did not send the whole body within the server's body timeout."""


class Unauthorized(InvalidInput):
    """The request lacks the bearer token the server requires."""


class NotReady(PackError):
    """The model is still loading (or failed to load)."""


class Overloaded(NotReady):
    """The server (or the model's queue) is full; the client should retry shortly."""

    retry_after = 1


class DeadlineExceeded(PackError):
    """The request took longer than the server's timeout."""


# First match wins: subclasses before their families.
_STATUSES: tuple[tuple[type[PackError], int, str], ...] = (
    (UnsupportedMediaType, 415, "BAD_REQUEST"),
    (PayloadTooLarge, 413, "BAD_REQUEST"),
    (RequestTimeout, 408, "BAD_REQUEST"),
    (Unauthorized, 401, "UNAUTHENTICATED"),
    (SchemaError, 400, "INVALID_PARAMETER_VALUE"),
    (InvalidInput, 400, "BAD_REQUEST"),
    (NotFound, 404, "RESOURCE_DOES_NOT_EXIST"),
    (NotReady, 503, "TEMPORARILY_UNAVAILABLE"),
    (DeadlineExceeded, 504, "DEADLINE_EXCEEDED"),
    (ModelError, 500, "INTERNAL_ERROR"),
    (PackError, 500, "INTERNAL_ERROR"),
)
_ROUTING_CODES = {404: "ENDPOINT_NOT_FOUND", 405: "BAD_REQUEST"}
_MAX_MESSAGE = 500


def protocol_for_path(path: str) -> Protocol:
    """Which error form a path answers with."""
    return "v2" if path == "/v2" or path.startswith("/v2/") else "mlflow"


def status_of(error: BaseException) -> tuple[int, str]:
    """The HTTP status and MLflow error code for an exception (500 for anything unexpected)."""
    for family, status, code in _STATUSES:
        if isinstance(error, family):
            return status, code
    return 500, "INTERNAL_ERROR"


def message_of(error: BaseException, request_id: str | None = None, expose: bool = False) -> str:
    """What the client is told: the error's first line, shortened; never a traceback.

    A model's failure names only its exception class (and where to look) unless ``expose``.
    """
    where = f" (request {request_id})" if request_id else ""
    if not isinstance(error, PackError):
        return f"Internal server error; see the server log{where}."
    if isinstance(error, ModelError) and not expose:
        cause = type(error.__cause__).__name__ if error.__cause__ is not None else type(error).__name__
        return f"The model failed to predict ({cause}); see the server log{where}."
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    if isinstance(error, ModelError):
        first = f"The model failed to predict: {first}"
    return first if len(first) <= _MAX_MESSAGE else first[: _MAX_MESSAGE - 3] + "..."


def error_body(code: str, message: str, protocol: Protocol, request_id: str | None = None) -> bytes:
    """The JSON error body of a protocol."""
    body: dict[str, str] = {"error": message} if protocol == "v2" else {"error_code": code, "message": message}
    if request_id is not None:
        body["request_id"] = request_id
    return orjson.dumps(body)


def http_error(
    error: BaseException, protocol: Protocol, request_id: str | None = None, expose: bool = False
) -> tuple[int, bytes]:
    """Status and JSON body for an exception raised while handling a request."""
    status, code = status_of(error)
    return status, error_body(code, message_of(error, request_id, expose), protocol, request_id)


def routing_error(status: int, message: str, protocol: Protocol) -> tuple[int, bytes]:
    """Status and JSON body for a request no route takes (404, 405)."""
    return status, error_body(_ROUTING_CODES.get(status, "BAD_REQUEST"), message, protocol)


__all__ = [
    "DeadlineExceeded",
    "NotReady",
    "Overloaded",
    "PayloadTooLarge",
    "RequestTimeout",
    "Unauthorized",
    "Protocol",
    "UnsupportedMediaType",
    "error_body",
    "http_error",
    "message_of",
    "protocol_for_path",
    "routing_error",
    "status_of",
]
