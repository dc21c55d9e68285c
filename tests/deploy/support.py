"""Helpers of the deployment tests: clients that score in a loop, and the proxy as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class ScoringLoop:
    """Clients scoring ``url`` in a loop until stopped; every request that does not get a 200 is kept.

    One client keeps its connection open (httpx), one opens a new connection per request (urllib), so
    both kinds of clients are measured across a switch. ``versions`` counts which model version answered
    (read from ``GET <base>/v2/models/<model>`` between scoring requests).
    """

    base: str
    body: dict[str, Any]
    model: str
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> ScoringLoop:
        self._threads = [
            threading.Thread(target=self._keep_alive, daemon=True),
            threading.Thread(target=self._new_connections, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _record(self, status: int | None, text: str) -> None:
        with self._lock:
            if status == 200:
                self.ok += 1
            else:
                self.failures.append(f"{status}: {text[:200]}")

    def _keep_alive(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self._stop.is_set():
                try:
                    answer = client.post("/invocations", json=self.body)
                    self._record(answer.status_code, answer.text)
                    meta = client.get(f"/v2/models/{self.model}")
                    if meta.status_code == 200:
                        with self._lock:
                            self.versions.update(meta.json()["versions"])
                    else:
                        self._record(meta.status_code, meta.text)
                except httpx.HTTPError as exc:
                    self._record(None, f"keep-alive client: {type(exc).__name__}: {exc}")

    def _new_connections(self) -> None:
        data = json.dumps(self.body).encode()
        while not self._stop.is_set():
            request = urllib.request.Request(
                f"{self.base}/invocations", data=data, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    self._record(response.status, "")
            except urllib.error.HTTPError as exc:
                with exc:
                    self._record(exc.code, exc.read().decode(errors="replace"))
            except (urllib.error.URLError, OSError) as exc:
                self._record(None, f"new-connection client: {exc}")

    def wait_for(self, count: int, timeout: float = 60) -> None:
        """Block until ``count`` more requests succeeded (the loop is really running)."""
        target = self.ok + count
        deadline = time.monotonic() + timeout
        while self.ok < target and time.monotonic() < deadline and not self.failures:
            time.sleep(0.05)


class ProxyProcess:
    """``python -m pack.deploy.proxy serve`` on 127.0.0.1:``port`` with its state under ``state``."""

    def __init__(self, target: str, port: int, state: Path, *extra: str) -> None:
        self.state = state
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "PACK_PROXY_STATE": str(state)}
        command = [sys.executable, "-m", "pack.deploy.proxy", "serve", "--target", target]
        command += ["--host", "127.0.0.1", "--port", str(port), *extra]
        self.log = state.parent / f"{state.name}.log"
        self._handle = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, env=self.env, stdout=self._handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self._listening(port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the proxy did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    @staticmethod
    def _listening(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m pack.deploy.proxy ARGS`` against this proxy (as ``docker exec`` runs it)."""
        return subprocess.run(
            [sys.executable, "-m", "pack.deploy.proxy", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._handle.close()
        return code
