"""Running the app: uvicorn on a socket we bind, one process or a supervisor of N workers.

The listening socket is bound here (before any worker starts), so ``-p 0`` works and every
worker shares one port. Accepted connections get TCP_NODELAY explicitly: with several workers
uvicorn serves a socket it did not create and leaves it unset, so each response waited ~40 ms for
a delayed ACK (uvicorn issue #3149). SIGTERM (or SIGINT) stops accepting, lets in-flight requests
finish for up to ``drain_timeout`` seconds, then exits. A worker whose models fail to load exits
with ``STARTUP_FAILURE`` and takes the server down with it (a server that can never be ready should
not look alive).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from pack.errors import InvalidInput, InvalidModel
from pack.serving.app import ServingApp
from pack.serving.settings import ModelSpec, ServingSettings

logger = logging.getLogger("pack.serving")


def set_nodelay(transport: Any) -> None:
    """Turn off Nagle's algorithm on a TCP transport (no-op for other transports)."""
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):  # the peer may already be gone
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (httptools when installed) with TCP_NODELAY on every connection."""

    def connection_made(self, transport: Any) -> None:
        set_nodelay(transport)
        super().connection_made(transport)


class AppFactory:
    """Builds the app inside each worker (picklable, so spawned workers can receive it)."""

    def __init__(self, models: Sequence[ModelSpec], settings: ServingSettings) -> None:
        self.models = list(models)
        self.settings = settings

    def __call__(self) -> ServingApp:
        return ServingApp(self.models, self.settings)


class _Server(uvicorn.Server):
    """uvicorn's server, stopping when a model fails to load."""

    failed = False

    async def on_tick(self, counter: int) -> bool:
        dataplane = getattr(self.config.loaded_app, "dataplane", None)
        if dataplane is not None and dataplane.failed is not None:
            self.failed = True
            return True
        return await super().on_tick(counter)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when the host has a colon).

    Raises:
        InvalidInput: the address cannot be bound (in use, not local, ...).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup plus pack's logger and Python warnings, at ``level``."""
    config = copy.deepcopy(LOGGING_CONFIG)
    for name in ("pack", "py.warnings"):
        config["loggers"][name] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["loggers"]["uvicorn"]["level"] = level.upper()
    return config


def uvicorn_config(models: Sequence[ModelSpec], settings: ServingSettings) -> uvicorn.Config:
    """The uvicorn configuration of a server."""
    return uvicorn.Config(
        AppFactory(models, settings),
        factory=True,
        http=NoDelayHTTPProtocol,
        lifespan="on",
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        access_log=settings.access_log,
        proxy_headers=False,
        timeout_graceful_shutdown=max(1, round(settings.drain_timeout)),
        workers=settings.workers,
    )


def serve(
    models: Sequence[ModelSpec],
    settings: ServingSettings,
    on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Serve ``models`` until SIGTERM/SIGINT.

    Args:
        models: what to serve (local model directories).
        settings: where to listen and how to behave.
        on_listening: called with ``(host, port)`` once the socket is bound, before models load.

    Raises:
        InvalidInput: the address cannot be bound.
        InvalidModel: a model failed to load (the log has the details).
    """
    config = uvicorn_config(models, settings)
    sock = bind_socket(settings.host, settings.port)
    if on_listening is not None:
        on_listening(settings.host, sock.getsockname()[1])
    try:
        failed = _run_workers(config, sock, settings.workers) if settings.workers > 1 else _run_one(config, sock)
    finally:
        sock.close()
    if failed:
        raise InvalidModel("a model failed to load; the server stopped (see the log above)")


def _run_one(config: uvicorn.Config, sock: socket.socket) -> bool:
    logging.captureWarnings(True)
    server = _Server(config)
    # uvicorn re-raises the stop signal once it has shut down gracefully; these handlers take it, so
    # a drained server exits 0 instead of dying by the signal.
    previous = {sig: signal.signal(sig, _drained) for sig in _STOP_SIGNALS}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return server.failed


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _drained(signum: int, frame: FrameType | None) -> None:
    logger.debug("stopped by signal %s after draining", signum)


def _worker_main(config: uvicorn.Config, sock: socket.socket) -> None:
    config.configure_logging()
    if _run_one(config, sock):
        sys.exit(STARTUP_FAILURE)


def _run_workers(config: uvicorn.Config, sock: socket.socket, count: int) -> bool:
    """Supervise ``count`` worker processes; restart crashed ones; forward SIGTERM/SIGINT."""
    multiprocessing.allow_connection_pickling()
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker_main, args=(config, sock), name="pack-serve-worker")
        process.start()
        logger.info("started worker process %s", process.pid)
        return process

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    failed = False
    workers = [start() for _ in range(count)]
    try:
        while not stop.wait(0.2):
            for index, process in enumerate(workers):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    failed = True
                    stop.set()
                    break
                logger.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
                workers[index] = start()
    finally:
        for process in workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in workers:
            process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return failed


__all__ = [
    "AppFactory",
    "NoDelayHTTPProtocol",
    "bind_socket",
    "log_config",
    "serve",
    "set_nodelay",
    "uvicorn_config",
]
