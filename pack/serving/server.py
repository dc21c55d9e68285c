"""Running the app: uvicorn on a socket we bind, in one process or under uvicorn's multiprocess supervisor.

The listening socket is bound here (before any worker starts), so ``-p 0`` works and every worker
shares one port. SIGTERM (or SIGINT) stops accepting (new connections are refused at once), lets
in-flight requests finish for up to ``drain_timeout`` seconds, answers the rest 503, and exits.

With ``-w N`` uvicorn's ``Multiprocess`` supervises the workers, with pack's rules on top: a worker
that exits at run time (whatever its exit code) is replaced; a worker whose models fail to load
(or fail their checksums) stops the whole server, since every replacement would fail the same way;
workers die with the supervisor (parent-death signal on Linux, else a watcher thread).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, Protocol

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess
from uvicorn.supervisors.multiprocess import Process as WorkerProcess

from pack.errors import InvalidModel
from pack.serving.app import ServingApp
from pack.serving.listening import bind_socket, bind_sockets, die_with_parent, log_config
from pack.serving.logs import install_warning_logger
from pack.serving.protocol import ServingHTTPProtocol, set_nodelay
from pack.serving.settings import ModelSpec, ServingSettings

logger = logging.getLogger("pack.serving")

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Flag(Protocol):
    """A one-way flag (``threading.Event`` or ``multiprocessing.Event``)."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


class AppFactory:
    """Builds the app inside each worker (picklable, so spawned workers can receive it).

    ``load_failed`` is set by a worker whose models failed to load; the worker then stops itself.
    """

    def __init__(
        self,
        models: Sequence[ModelSpec],
        settings: ServingSettings,
        load_failed: Flag,
        on_loaded: Callable[[], None] | None = None,
    ) -> None:
        self.models = list(models)
        self.settings = settings
        self.load_failed = load_failed
        self.on_loaded = on_loaded
        self.parent = os.getpid()

    def __call__(self) -> ServingApp:
        if os.getpid() != self.parent:  # a worker
            die_with_parent(self.parent)
            install_warning_logger()
        return ServingApp(self.models, self.settings, on_load_failure=self._failed, on_loaded=self.on_loaded)

    def _failed(self) -> None:
        self.load_failed.set()
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful stop


def uvicorn_config(
    models: Sequence[ModelSpec],
    settings: ServingSettings,
    load_failed: Flag,
    on_loaded: Callable[[], None] | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration of a server."""
    return uvicorn.Config(
        AppFactory(models, settings, load_failed, on_loaded),
        factory=True,
        http=ServingHTTPProtocol,
        lifespan="on",
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        access_log=settings.access_log,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
        timeout_graceful_shutdown=max(1, round(settings.drain_timeout)),
        workers=settings.workers,
    )


def serve(
    models: Sequence[ModelSpec],
    settings: ServingSettings,
    on_listening: Callable[[str, int], None] | None = None,
    on_loaded: Callable[[], None] | None = None,
) -> None:
    """Serve ``models`` until SIGTERM/SIGINT.

    Args:
        models: what to serve (local model directories).
        settings: where to listen and how to behave.
        on_listening: called with ``(host, port)`` once the socket is bound, before models load.
        on_loaded: called in the process that serves (each worker with ``-w N``) once its models
            are loaded and warmed up (picklable with ``-w N``).

    Raises:
        InvalidInput: the address cannot be bound.
        InvalidModel: a model failed to load (the log has the details).
    """
    sockets = bind_sockets(settings.host, settings.port, settings.workers)
    if on_listening is not None:
        on_listening(settings.host, sockets[0].getsockname()[1])
    try:
        if settings.workers > 1:
            failed = _run_workers(models, settings, sockets, on_loaded)
        else:
            load_failed = threading.Event()
            _run_one(uvicorn_config(models, settings, load_failed, on_loaded), sockets[0])
            failed = load_failed.is_set()
    finally:
        for sock in sockets:
            sock.close()
    if failed:
        raise InvalidModel("a model failed to load; the server stopped (see the log above)")


def _run_one(config: uvicorn.Config, sock: socket.socket) -> None:
    restore = install_warning_logger()
    server = uvicorn.Server(config)
    # uvicorn re-raises the stop signal once it has shut down gracefully; these handlers take it, so
    # a drained server exits 0 instead of dying by the signal.
    previous = {sig: signal.signal(sig, _drained) for sig in _STOP_SIGNALS}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        restore()


def _drained(signum: int, frame: FrameType | None) -> None:
    logger.debug("stopped by signal %s after draining", signum)


class Supervisor(Multiprocess):
    """uvicorn's multiprocess supervisor with pack's restart, drain and failure rules (module docstring).

    Given one socket per worker (``bind_sockets``), worker ``i`` (and whichever replaces it) listens on
    socket ``i``; given one, every worker shares it.
    """

    def __init__(
        self, config: uvicorn.Config, sockets: list[socket.socket], drain_timeout: float, load_failed: Flag
    ) -> None:
        super().__init__(config, sockets)
        self.drain_timeout = drain_timeout
        self.load_failed = load_failed

    @property
    def failed(self) -> bool:
        """True when a worker could not load its models."""
        return self.load_failed.is_set()

    def sockets_of(self, index: int) -> list[socket.socket]:
        """The sockets worker ``index`` listens on."""
        return [self.sockets[index]] if len(self.sockets) == self.processes_num else self.sockets

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            process = WorkerProcess(self.config, self.sockets_of(index))
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        """Replace each worker (SIGHUP), the replacement listening where the old one did, ready first."""
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = WorkerProcess(self.config, self.sockets_of(index))
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    logger.error("worker %s was not ready in time; keeping worker %s", new.pid, old.pid)
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        if self.failed:
            logger.error("a worker could not load its models; stopping the server")
            self.should_exit.set()
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # gone or hung
            process.join()
            if self.failed or self.should_exit.is_set():
                return
            logger.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
            replacement = WorkerProcess(self.config, self.sockets_of(index))
            replacement.start()
            self.processes[index] = replacement

    def terminate_all(self) -> None:
        for sock in self.sockets:  # the workers close theirs as they drain: new connections are refused
            sock.close()
        super().terminate_all()

    def join_all(self) -> None:
        deadline = time.monotonic() + self.drain_timeout + 10.0
        for process in self.processes:
            process.process.join(max(deadline - time.monotonic(), 0.0))
            if process.process.is_alive():
                logger.error("worker %s did not stop after the drain; killing it", process.pid)
                process.kill()
                process.join()


def _run_workers(
    models: Sequence[ModelSpec],
    settings: ServingSettings,
    sockets: list[socket.socket],
    on_loaded: Callable[[], None] | None,
) -> bool:
    multiprocessing.allow_connection_pickling()
    load_failed = multiprocessing.get_context("spawn").Event()
    config = uvicorn_config(models, settings, load_failed, on_loaded)
    supervisor = Supervisor(config, sockets, settings.drain_timeout, load_failed)
    with _restored_signals():
        supervisor.run()
    return supervisor.failed


@contextlib.contextmanager
def _restored_signals() -> Any:
    """Put back the signal handlers that uvicorn's supervisor replaces (for callers in-process)."""
    previous = {sig: signal.getsignal(sig) for sig in signal.Signals if sig not in (signal.SIGKILL, signal.SIGSTOP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(sig, handler)


__all__ = [
    "AppFactory",
    "Supervisor",
    "bind_socket",
    "bind_sockets",
    "die_with_parent",
    "log_config",
    "serve",
    "set_nodelay",
    "uvicorn_config",
]
