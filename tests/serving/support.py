"""Helpers of the serving tests: a ``pack serve`` subprocess, and quiet loading of test models."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import httpx

import pack.pyfunc
from pack.errors import UnsafeFormatWarning

FEATURES = [f"f{i}" for i in range(10)]
_LISTENING = re.compile(r"listening on http://(?P<host>[^ ]+):(?P<port>\d+)")


class ServerProcess:
    """``pack serve ARGS -p 0`` in a subprocess; its log goes to a file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._handle = open(log, "w")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-c", "from pack.cli.main import main; main()", "serve", *args, "-p", "0"]
        self.process = subprocess.Popen(
            command, stdout=self._handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            self.url = self._wait_for_port().replace("//0.0.0.0:", "//127.0.0.1:")
        except BaseException:
            self.process.kill()
            self.process.wait()
            self._handle.close()
            raise
        self.client = httpx.Client(base_url=self.url, timeout=60)

    def _wait_for_port(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log.read_text())
            if found:
                return f"http://{found['host']}:{found['port']}"
            if self.process.poll() is not None:
                raise RuntimeError(f"pack serve exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.05)
        raise RuntimeError(f"pack serve did not bind in {timeout} s:\n{self.output}")

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pack serve exited with {self.process.returncode}:\n{self.output}")
            try:
                if self.client.get("/v2/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"pack serve was not ready in {timeout} s:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.client.close()
        self._handle.close()
        return code


def marker_of(slow_model: Path) -> Path:
    """Where the slow model says that a long predict has started."""
    return slow_model.parent / "started"


def load_quietly(path: Path) -> Any:
    """``pack.pyfunc.load_model`` without the pickle warning (these are our own test models)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsafeFormatWarning)
        return pack.pyfunc.load_model(path)
