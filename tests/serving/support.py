"""Helpers of the serving tests: a ``pack serve`` subprocess, and quiet loading of test models."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import pack.pyfunc
from pack.errors import UnsafeFormatWarning

FEATURES = [f"f{i}" for i in range(10)]
_LISTENING = re.compile(r"listening on http://(?P<host>[^ ]+):(?P<port>\d+)")


class ServerProcess:
    """``pack serve ARGS -p 0`` in a subprocess; its log goes to a file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None, before: str = "") -> None:
        """``before``: Python run in the server's process before pack's CLI (e.g. an ``atexit`` hook)."""
        self.log = log
        self._handle = open(log, "w")  # noqa: SIM115 (closed in stop)
        code = f"{before}\nfrom pack.cli.main import main; main()"
        command = [sys.executable, "-c", code, "serve", *args, "-p", "0"]
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


# The deep-learning and ONNX models served by tests/serving/test_deep_learning.py (built in conftest).
DL_CASES = (
    "torch-mlp",  # pt2
    "torch-script",  # the same MLP in TorchScript
    "torch-cnn",  # images [N, 1, 8, 8]
    "torch-towers",  # two named inputs, two named outputs
    "keras-mlp",
    "tf-module",  # a SavedModel with two named outputs
    "onnx-sklearn",  # skl2onnx: int64 labels and float32 probabilities
    "onnx-helper",  # onnx.helper: float32 and int64 named inputs, two named outputs
)


@dataclass(frozen=True)
class TensorCase:
    """A deep-learning or ONNX model saved for serving, a batch for it, and the framework's own output.

    ``inputs``/``outputs`` are the V2 tensor metadata the server must report, written out by hand.
    """

    name: str
    flavor: str
    path: Path
    data: Any  # an array, or a dict of arrays by input name
    expected: Any  # the framework's own output on ``data``: an array, or a dict by output name
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]

    @property
    def named(self) -> bool:
        """True when the model takes a dict of named tensors."""
        return isinstance(self.data, dict)

    def arrays(self) -> dict[str, np.ndarray]:
        """The batch by V2 input name."""
        return dict(self.data) if self.named else {self.inputs[0]["name"]: self.data}


def mapped_files(pid: int) -> set[str]:
    """The names of the files mapped into a process (its shared libraries among them), from /proc."""
    maps = Path(f"/proc/{pid}/maps")
    names = set()
    for line in maps.read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/"):
            names.add(Path(parts[5]).name)
    return names
