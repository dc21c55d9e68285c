"""Load generation for the serving benchmarks: server subprocesses, and ``wrk`` with a Lua script that
POSTs one body file and reports latency percentiles."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("PACK_BENCH_TYPE") or "application/json"
local name, value = (os.getenv("PACK_BENCH_HEADER") or ""):match("^([^:]+):%s*(.*)$")
if name then wrk.headers[name] = value end
local handle = io.open(os.getenv("PACK_BENCH_BODY"), "rb")
wrk.body = handle:read("*a")
handle:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


@dataclass
class Load:
    """One wrk run."""

    requests: int
    seconds: float
    non2xx: int
    errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Target:
    """Where and what to POST: a URL and a body file with its content type (and one more header, if any)."""

    url: str
    body: Path
    content_type: str = "application/json"
    header: str = ""  # "Name: value"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: bytes, content_type: str = "application/json", timeout: float = 5.0) -> int:
    """The status of one POST (0 when nothing answered)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)


def wrk(target: Target, script: Path, connections: int, seconds: float) -> Load:
    """Drive ``target`` with ``connections`` keep-alive connections for ``seconds``."""
    threads = 1 if connections == 1 else 2
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "60s"]
    env = {
        **os.environ,
        "PACK_BENCH_BODY": str(target.body),
        "PACK_BENCH_TYPE": target.content_type,
        "PACK_BENCH_HEADER": target.header,
    }
    done = subprocess.run(
        [*command, "-s", str(script), target.url], capture_output=True, text=True, check=True, env=env
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        non2xx=raw["non2xx"],
        errors=raw["errors"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
    )


class Server:
    """A server subprocess; ``cold_start`` is the time from launch to the first 200 from ``ready``."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], ready: Target, log: Path, cwd: Path | None = None
    ) -> None:
        self.name = name
        self._log = open(log, "w")  # noqa: SIM115
        self.log = log
        body = ready.body.read_bytes()
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
        while post(ready.url, body, ready.content_type, timeout=2) != 200:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() - started > 300:
                raise RuntimeError(f"{name} did not answer in 300 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.01)
        self.cold_start = time.monotonic() - started

    def pss_mb(self) -> float:
        """Proportional set size of the server process, in MB."""
        for line in Path(f"/proc/{self.process.pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        """SIGTERM the server's process group, then wait (SIGKILL after 30 s)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self._log.close()


__all__ = ["WRK_SCRIPT", "Load", "Server", "Target", "ensure_wrk", "free_port", "post", "wrk"]
