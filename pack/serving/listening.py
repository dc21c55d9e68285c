"""Process plumbing shared by ``pack serve`` and ``pack server``: listening sockets, workers that die
with their parent, uvicorn's logging with pack's loggers. Standard library and uvicorn only, so the
tracking server can use it without the scoring stack."""

from __future__ import annotations

import copy
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from pack.errors import InvalidInput

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Make this process receive SIGTERM when ``parent`` exits (drain, then exit; never an orphan)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        armed = False
    if os.getppid() != parent:  # the parent is already gone
        os.kill(os.getpid(), signal.SIGTERM)
    if not armed:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, name="pack-parent-watch", daemon=True).start()


def bind_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when the host has a colon).

    Raises:
        InvalidInput: the address cannot be bound (in use, not local, ...).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port, one per worker: Linux spreads new connections across
    them (``SO_REUSEPORT``). With one shared socket, the first worker to wake accepts a whole burst of
    connections, and keep-alive clients then load one worker while the other idles. Elsewhere (or for
    one worker): one socket, shared.

    Raises:
        InvalidInput: the address cannot be bound.
    """
    if count <= 1 or not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
        return [bind_socket(host, port)]
    sockets = [bind_socket(host, port, reuse_port=True)]
    try:
        bound = sockets[0].getsockname()[1]
        sockets += [bind_socket(host, bound, reuse_port=True) for _ in range(count - 1)]
    except InvalidInput:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging setup plus pack's logger, at ``level``."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["pack"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["loggers"]["uvicorn"]["level"] = level.upper()
    return config


__all__ = ["bind_socket", "bind_sockets", "die_with_parent", "log_config"]
