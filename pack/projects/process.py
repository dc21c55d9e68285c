"""Child processes of a run: their own process group, output streamed to the caller and into the run's log.

Each child starts a new session, so a terminal's Ctrl-C reaches ``pack run`` only, which then stops
the child's whole process group: SIGTERM, a grace period, SIGKILL. stdout and stderr go to the caller's
streams as they come and, interleaved as they arrived, into one log file that the run keeps.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pack.errors import ProjectError

Sink = Callable[[bytes], None]
Step = Callable[[Sequence[str], Path], None]
"""Runs one preparation command (an installer, a build) in a directory; raises ProjectError if it fails."""


def sink_for(stream: IO[Any] | None) -> Sink | None:
    """A byte writer for a text or binary stream (``sys.stdout``, a file, ...); None for None."""
    if stream is None:
        return None
    target = getattr(stream, "buffer", stream)

    def write(data: bytes) -> None:
        try:
            try:
                target.write(data)
            except TypeError:  # a text stream without a binary buffer (a notebook's stdout)
                target.write(data.decode("utf-8", "replace"))
            target.flush()
        except (OSError, ValueError):  # the caller closed its stream: keep logging to the file
            pass

    return write


class OutputLog:
    """The run's log file, and the caller's stdout/stderr, fed by every child of the run."""

    def __init__(self, path: Path, stdout: Sink | None, stderr: Sink | None) -> None:
        self.path = path
        self._file = open(path, "ab")  # noqa: SIM115 - lives as long as the run
        self._sinks = {1: stdout, 2: stderr}
        self._lock = threading.Lock()

    def write(self, stream: int, data: bytes) -> None:
        """Append ``data`` from stream 1 (stdout) or 2 (stderr)."""
        with self._lock:
            if not self._file.closed:
                self._file.write(data)
                self._file.flush()
            sink = self._sinks[stream]
        if sink is not None:
            sink(data)

    def note(self, text: str) -> None:
        """A line of pack's own into the log (not to the caller: the CLI reports for itself)."""
        with self._lock:
            if not self._file.closed:
                self._file.write(f"[pack] {text}\n".encode())
                self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._file.close()


class Process:
    """A started child in its own process group, with its output being pumped into an ``OutputLog``."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: OutputLog,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        try:
            self.popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise ProjectError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
        self._on_stop = on_stop
        self._pumps = [
            threading.Thread(target=_pump, args=(pipe, number, log), daemon=True, name=f"pack-run-output-{number}")
            for pipe, number in ((self.popen.stdout, 1), (self.popen.stderr, 2))
        ]
        for pump in self._pumps:
            pump.start()

    @property
    def pid(self) -> int:
        """The child's process id (also its process group id)."""
        return self.popen.pid

    def poll(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to exit (``subprocess.TimeoutExpired`` after ``timeout``); its exit code."""
        code = self.popen.wait(timeout)
        self._drain()
        return code

    def stop(self, grace: float) -> int:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace`` seconds; the exit code."""
        if self.popen.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self.popen.wait()
        _signal_group(self.pid, signal.SIGKILL)  # whatever is left of the group
        if self._on_stop is not None:
            self._on_stop()
        self._drain()
        return self.popen.returncode

    def _drain(self) -> None:
        for pump in self._pumps:
            pump.join(timeout=5)  # a grandchild that escaped the group may hold the pipe: stop waiting
        for pipe in (self.popen.stdout, self.popen.stderr):
            if pipe is not None and not any(p.is_alive() for p in self._pumps):
                pipe.close()


def run_step(argv: Sequence[str], cwd: Path, *, env: Mapping[str, str], log: OutputLog, grace: float = 10.0) -> None:
    """Run one preparation command (an installer) to completion, its output into ``log``.

    Interrupted (Ctrl-C), it stops the command's process group and re-raises.

    Raises:
        ProjectError: the command could not start or exited non-zero.
    """
    log.note("$ " + shlex.join(argv))
    process = Process(argv, cwd=cwd, env=env, log=log)
    try:
        code = process.wait()
    except BaseException:
        process.stop(grace)
        raise
    if code != 0:
        raise ProjectError(f"{describe(argv)} failed (exit code {code}); its output is in the run's {log.path.name}")


def describe(argv: Sequence[str]) -> str:
    """``pip install`` for ``python -m pip install --flag ...``, ``uv venv`` for ``uv venv ...``."""
    words = list(argv[1:])
    name = Path(argv[0]).name
    if words[:1] == ["-m"] and len(words) > 1:
        name, words = words[1], words[2:]
    return " ".join([name, *itertools.takewhile(str.isalpha, words[:2])])


def _pump(pipe: IO[bytes] | None, stream: int, log: OutputLog) -> None:
    if pipe is None:
        return
    fd = pipe.fileno()
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        log.write(stream, data)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


__all__ = ["OutputLog", "Process", "Sink", "Step", "describe", "run_step", "sink_for"]
