"""``pack server`` in a subprocess on a free port, and MLflow's client scripts run against it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

_LISTENING = re.compile(r"listening on http://(?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)")
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>[^ ?"]+)(?:\?[^ "]*)? HTTP/1\.1" (?P<status>\d{3})')


class TrackingServerProcess:
    """``pack server ARGS -p 0`` in a subprocess (access log on); its log goes to a file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._handle = open(log, "w")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-c", "from pack.cli.main import main; main()", "server", *args, "-p", "0"]
        self.process = subprocess.Popen(
            [*command, "--access-log"], stdout=self._handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            self.url = self._wait_for_port()
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
            if found and "Application startup complete" in self.log.read_text():
                return f"http://{found['host']}:{found['port']}"
            if self.process.poll() is not None:
                raise RuntimeError(f"pack server exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.05)
        raise RuntimeError(f"pack server did not start in {timeout} s:\n{self.output}")

    @property
    def output(self) -> str:
        return self.log.read_text()

    def requests(self) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` of every request in the access log so far."""
        return [(m["method"], m["path"], int(m["status"])) for m in _ACCESS.finditer(self.output)]

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


def mlflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an MLflow client process (no pack interpreter variables leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MLFLOW_"))}
    env.update(MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true", GIT_PYTHON_REFRESH="quiet", **(extra or {}))
    return env


def run_client(python: Path, script: str, cwd: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run an MLflow client script; its last stdout line parsed as JSON."""
    import json

    done = subprocess.run(
        [str(python), "-c", script, *args],
        cwd=cwd,
        env=mlflow_env(env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"MLflow client failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
