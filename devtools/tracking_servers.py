"""Tracking servers in subprocesses on free ports, for tests and benchmarks: ``pack server`` and the MLflow
peer's ``mlflow server`` (SQLite backend, artifacts served from a folder, one worker, job runners off)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devtools.builders import free_port

PACK = "pack"
MLFLOW = "mlflow"


class TrackingServer:
    """A tracking server of ``kind`` (``pack`` or ``mlflow``) keeping everything under ``root``.

    ``url`` answers once the constructor returns; ``stop`` ends it (SIGTERM, then SIGKILL).
    """

    def __init__(self, kind: str, root: Path, *, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / f"{kind}-server.log"
        flags = [
            "--backend-store-uri",
            f"sqlite:///{root}/{kind}.db",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--serve-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            *args,
        ]
        if kind == PACK:
            command = [sys.executable, "-c", "from pack.cli.main import main; main()", "server", *flags]
        elif kind == MLFLOW:
            from devtools.mlflow_peer import mlflow_python

            command = [str(mlflow_python()), "-m", "mlflow", "server", *flags]
        else:
            raise ValueError(f"unknown tracking server kind {kind!r}")
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        environment.update(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", PACK_CACHE_DIR=str(root / "server-cache"))
        environment.update(env or {})
        self._handle = open(self.log, "w")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(
            command,
            cwd=root,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        try:
            self._wait_healthy(timeout=240 if kind == MLFLOW else 60)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.process.returncode}:\n{self.output}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind} server did not answer in {timeout} s:\n{self.output}")

    @property
    def output(self) -> str:
        """What the server logged."""
        return self.log.read_text(errors="replace")[-5000:]

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the server's process group, SIGKILL it if it lingers."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._handle.close()


__all__ = ["MLFLOW", "PACK", "TrackingServer", "free_port"]
