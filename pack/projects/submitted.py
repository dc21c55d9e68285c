"""A project run in flight: MLflow's ``SubmittedRun`` (``run_id``, ``wait()``, ``get_status()``, ``cancel()``).

The run ends exactly once: FINISHED when the command exits 0, FAILED otherwise, KILLED when cancelled.
Its log is stored as the run's ``run.log`` artifact first, so a finished run always has its log. Runs
still in flight when the interpreter exits are cancelled, so no child outlives it.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable

from pack.errors import PackError
from pack.projects.process import OutputLog, Process
from pack.tracking import Client

RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"
LOG_ARTIFACT = "run.log"
logger = logging.getLogger("pack.projects")
_in_flight: set[SubmittedRun] = set()


class SubmittedRun:
    """A started project run; its status is recorded in the tracking store when it ends."""

    def __init__(
        self,
        run_id: str,
        process: Process,
        *,
        client: Client,
        log: OutputLog,
        cleanup: Callable[[], None],
        grace: float = 10.0,
    ) -> None:
        self._run_id = run_id
        self._process = process
        self._client = client
        self._log = log
        self._cleanup = cleanup
        self._grace = grace
        self._status: str | None = None
        self._lock = threading.Lock()
        _in_flight.add(self)

    @property
    def run_id(self) -> str:
        """The tracking run this execution records into."""
        return self._run_id

    @property
    def exit_code(self) -> int | None:
        """The command's exit code (negative: killed by that signal), or None while it runs."""
        return self._process.poll()

    def wait(self) -> bool:
        """Block until the command exits and the run is ended; True when it FINISHED."""
        code = self._process.wait()
        self._end(FINISHED if code == 0 else FAILED)
        return self._status == FINISHED

    def get_status(self) -> str:
        """RUNNING, or how the run ended (FINISHED, FAILED, KILLED)."""
        if self._status is None and self._process.poll() is not None:
            self.wait()
        return self._status or RUNNING

    def cancel(self) -> None:
        """Stop the command's whole process group (SIGTERM, then SIGKILL after the grace period) and end
        the run as KILLED; a run that already ended keeps its status."""
        if self._status is not None:
            return
        self._process.stop(self._grace)
        self._end(KILLED)

    def _end(self, status: str) -> None:
        """Store the log and the final status (once), then remove the run's temporary files."""
        with self._lock:
            if self._status is not None:
                return
            self._status = status
            _in_flight.discard(self)
            try:
                close_run(self._client, self._run_id, self._log, status, self._process.poll())
            finally:
                self._cleanup()


def close_run(client: Client, run_id: str, log: OutputLog, status: str, code: int | None) -> None:
    """Write the last log line, store the log as an artifact, and end the run with ``status``."""
    log.note(f"run {run_id} {status}" + ("" if code is None else f" (exit code {code})"))
    log.close()
    try:
        client.log_artifact(run_id, log.path)
    except (PackError, OSError) as exc:  # the status still gets recorded
        logger.warning("could not store the log of run %s: %s", run_id, exc)
    client.set_terminated(run_id, status)


@atexit.register
def _cancel_in_flight() -> None:
    for submitted in list(_in_flight):
        try:
            if submitted.exit_code is None:
                submitted.cancel()
            else:
                submitted.wait()
        except Exception as exc:  # at exit: report, and go on with the others
            logger.warning("could not end run %s: %s", submitted.run_id, exc)


__all__ = ["FAILED", "FINISHED", "KILLED", "LOG_ARTIFACT", "RUNNING", "SubmittedRun"]
