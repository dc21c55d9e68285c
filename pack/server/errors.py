"""The only place the tracking server's HTTP statuses live: ``pack.errors`` families -> MLflow's
``{"error_code", "message"}`` and status.

MLflow's client depends on these: ``RESOURCE_DOES_NOT_EXIST`` (404) makes ``set_experiment`` create,
``RESOURCE_ALREADY_EXISTS`` (400) is swallowed by ``register_model``, bad input is
``INVALID_PARAMETER_VALUE`` (400). A failure of the server itself is 500 naming only the request id;
its details stay in the server log.
"""

from __future__ import annotations

import orjson

from pack.errors import AlreadyExists, InvalidInput, InvalidModel, NotFound, PackError


class Unauthenticated(PackError):
    """No valid credentials (401)."""


class PermissionDenied(PackError):
    """Valid credentials whose role does not allow the call (403)."""


class PayloadTooLarge(InvalidInput):
    """A request body over the server's limit (413)."""


class RequestTimeout(InvalidInput):
    """A client too slow sending its body (408)."""


class BadHost(InvalidInput):
    """A ``Host`` header not in the allow-list (403, as MLflow's security middleware answers)."""


class Conflict(PackError):
    """An object in a state the call cannot apply to, e.g. a tampered registered version (409)."""


# First match wins: subclasses before their families.
_STATUSES: tuple[tuple[type[BaseException], int, str], ...] = (
    (Unauthenticated, 401, "UNAUTHENTICATED"),
    (PermissionDenied, 403, "PERMISSION_DENIED"),
    (BadHost, 403, "PERMISSION_DENIED"),
    (PayloadTooLarge, 413, "INVALID_PARAMETER_VALUE"),
    (RequestTimeout, 408, "INVALID_PARAMETER_VALUE"),
    (Conflict, 409, "INVALID_STATE"),
    (NotFound, 404, "RESOURCE_DOES_NOT_EXIST"),
    (AlreadyExists, 400, "RESOURCE_ALREADY_EXISTS"),
    (InvalidInput, 400, "INVALID_PARAMETER_VALUE"),
    (InvalidModel, 400, "INVALID_PARAMETER_VALUE"),
)
_MAX_MESSAGE = 1000


def status_of(error: BaseException) -> tuple[int, str]:
    """The HTTP status and MLflow error code of an exception (500 ``INTERNAL_ERROR`` otherwise)."""
    for family, status, code in _STATUSES:
        if isinstance(error, family):
            return status, code
    return 500, "INTERNAL_ERROR"


def error_body(code: str, message: str, request_id: str | None = None) -> bytes:
    """MLflow's JSON error document (plus the request id)."""
    body = {"error_code": code, "message": message}
    if request_id:
        body["request_id"] = request_id
    return orjson.dumps(body)


def http_error(error: BaseException, request_id: str) -> tuple[int, bytes]:
    """Status and body for an exception raised while handling a request: the error's first line for
    the caller's mistakes, only the request id for the server's own failures."""
    status, code = status_of(error)
    if status >= 500:
        message = f"Internal server error; see the server log (request {request_id})."
    else:
        text = str(error).strip()
        message = text.splitlines()[0] if text else type(error).__name__
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 3] + "..."
    return status, error_body(code, message, request_id)


__all__ = [
    "BadHost",
    "Conflict",
    "PayloadTooLarge",
    "PermissionDenied",
    "RequestTimeout",
    "Unauthenticated",
    "error_body",
    "http_error",
    "status_of",
]
