"""Request ids and one-line log records: what a client is told points into the server log, nothing more.

Every request gets an id (the client's ``X-Request-ID`` when it sends a sane one, else a new one). It is
held in a context variable for the duration of the request, so the warnings raised while checking its
input (``SchemaWarning``: dropped columns, ignored params) are logged as one line naming it, without
internal file paths or source lines, and a failure's traceback in the log carries it too.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import warnings
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

logger = logging.getLogger("pack.serving")

REQUEST_ID: ContextVar[str | None] = ContextVar("pack_request_id", default=None)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIds:
    """Makes request ids: a random per-process prefix and a counter (unique across workers and restarts)."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)

    def new(self, offered: str | None = None) -> str:
        """The client's id when it is short and plain, else a fresh one."""
        if offered is not None and _CLIENT_ID.match(offered):
            return offered
        return f"{self._prefix}-{next(self._counter):x}"


def install_warning_logger() -> Callable[[], None]:
    """Log Python warnings as one line with the current request id; returns what puts the old hook back."""
    previous = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *where: Any, **_: Any) -> None:
        request = REQUEST_ID.get()
        suffix = f" (request {request})" if request else ""
        logger.warning("%s: %s%s", category.__name__, str(message).splitlines()[0] if str(message) else "", suffix)

    warnings.showwarning = show

    def restore() -> None:
        warnings.showwarning = previous

    return restore


def log_failure(message: str, error: BaseException, *args: Any) -> None:
    """Log an error with its traceback and the current request id."""
    request = REQUEST_ID.get()
    logger.error(message + " (request %s)", *args, request or "-", exc_info=error)


__all__ = ["REQUEST_ID", "RequestIds", "install_warning_logger", "log_failure"]
