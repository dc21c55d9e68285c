"""Running the tracking server: uvicorn on a socket bound here, one process or ``-w N`` workers under
uvicorn's multiprocess supervisor.

SIGTERM (or SIGINT) stops accepting new connections, lets in-flight requests finish for up to
``--drain-timeout`` seconds, and exits 0. Workers are replaced if they die, and die with the
supervisor (parent-death signal on Linux). Every acknowledged write is committed before its answer
is sent (SQLite in WAL mode, PostgreSQL), so even a SIGKILL loses none.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors.multiprocess import Multiprocess

from pack.server.app import create_app
from pack.server.settings import ServerSettings
from pack.serving.listening import bind_socket, die_with_parent, log_config
from pack.serving.logs import install_warning_logger
from pack.serving.protocol import ServingHTTPProtocol

logger = logging.getLogger("pack.server")


class AppFactory:
    """Builds the app in each process (picklable, so spawned workers receive it).

    ``extra``: ``"module:function"`` of a factory taking no arguments and returning the app mounted
    at ``/`` (the web UI), or None.
    """

    def __init__(self, settings: ServerSettings, extra: str | None = None) -> None:
        self.settings = settings
        self.extra = extra
        self.parent = os.getpid()

    def __call__(self) -> ASGIApp:
        if os.getpid() != self.parent:
            die_with_parent(self.parent)
            install_warning_logger()
        mounted = None
        if self.extra is not None:
            module, _, name = self.extra.partition(":")
            mounted = getattr(importlib.import_module(module), name)()
        return create_app(self.settings, mounted)


def uvicorn_config(settings: ServerSettings, extra: str | None = None) -> uvicorn.Config:
    """uvicorn's configuration for the server."""
    return uvicorn.Config(
        AppFactory(settings, extra),
        factory=True,
        http=ServingHTTPProtocol,
        lifespan="on",
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        access_log=settings.access_log,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=max(1, round(settings.drain_timeout)),
        workers=settings.workers,
    )


def serve(
    settings: ServerSettings, on_listening: Callable[[str, int], None] | None = None, extra: str | None = None
) -> None:
    """Serve until SIGTERM/SIGINT.

    Raises:
        InvalidInput: the address cannot be bound.
    """
    sock = bind_socket(settings.host, settings.port)
    if on_listening is not None:
        on_listening(settings.host, sock.getsockname()[1])
    config = uvicorn_config(settings, extra)
    try:
        if settings.workers > 1:
            Multiprocess(config, [sock]).run()
        else:
            restore = install_warning_logger()
            server = uvicorn.Server(config)
            previous = {sig: signal.signal(sig, _drained) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                server.run(sockets=[sock])
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                restore()
    finally:
        sock.close()


def _drained(signum: int, frame: FrameType | None) -> None:
    logger.debug("stopped by signal %s after draining", signum)


__all__ = ["AppFactory", "serve", "uvicorn_config"]
