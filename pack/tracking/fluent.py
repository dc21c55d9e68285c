"""MLflow's fluent tracking API: ``with pack.start_run(): pack.log_param(...)``.

The active-run stack is per thread (nested runs push onto it); the current tracking URI and
experiment are per process. Like MLflow, logging without an active run starts one, and runs still
active when the interpreter exits are ended as FINISHED.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from pack._fs import safe_relpath
from pack.errors import AlreadyExists, InvalidInput, NotFound
from pack.registry.default import process_default
from pack.registry.settings import absolute_sqlite_uri
from pack.settings import PackSettings
from pack.store.entities import Experiment, LifecycleStage, Metric, Param, Run, RunStatus, RunTag
from pack.store.tags import NOTE_TAG, PARENT_RUN_TAG
from pack.tracking.client import Client
from pack.tracking.source import source_tags

DEFAULT_EXPERIMENT_ID = "0"


class ActiveRun(Run):
    """The run ``start_run`` returned; as a context manager it ends the run (FAILED on an exception)."""

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        end_run(status.value)


class _AttachSettings(PackSettings):
    """``PACK_RUN_ID``: the run a process started by ``pack run`` records into."""

    run_id: str | None = None


class _RunState:
    """The fluent API's run state (as MLflow's): the active-run stack of each thread, and the current
    experiment and last run of the process. Where runs are stored is ``pack.registry.default``'s."""

    def __init__(self) -> None:
        self._threads = threading.local()
        self.lock = threading.Lock()
        self.experiment_id: str | None = None
        self.last_run_id: str | None = None
        self.atexit_registered = False

    @property
    def stack(self) -> list[ActiveRun]:
        """This thread's active runs, innermost last."""
        stack: list[ActiveRun] | None = getattr(self._threads, "stack", None)
        if stack is None:
            stack = self._threads.stack = []
        return stack


_runs = _RunState()


def _client() -> Client:
    return Client()


# where ------------------------------------------------------------------------------------------


def set_tracking_uri(uri: str | Path) -> None:
    """Track into another database (``sqlite:///file.db``, ``postgresql://...``) from now on."""
    process_default().configure(tracking_uri=absolute_sqlite_uri(str(uri)))
    _runs.experiment_id = None


def get_tracking_uri() -> str:
    """The current tracking database URI."""
    return process_default().settings().tracking_uri


def set_registry_uri(uri: str | Path) -> None:
    """Register models into another database than the tracking one."""
    process_default().configure(registry_uri=absolute_sqlite_uri(str(uri)))


def get_registry_uri() -> str:
    """The current registry database URI."""
    return process_default().settings().effective_registry_uri


# experiments ------------------------------------------------------------------------------------


def create_experiment(name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None) -> str:
    """Create an experiment; its id."""
    return _client().create_experiment(name, artifact_location, tags)


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment current (created when named and missing); new runs go there.

    Raises:
        InvalidInput: neither or both given, or the experiment is deleted. NotFound: unknown id.
    """
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidInput("pass exactly one of experiment_name and experiment_id")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(experiment_id)
    else:
        found = client.get_experiment_by_name(str(experiment_name))
        experiment = found or client.get_experiment(_create_quietly(client, str(experiment_name)))
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE.value:
        raise InvalidInput(f"experiment {experiment.name!r} is deleted; restore it first")
    _runs.experiment_id = experiment.experiment_id
    return experiment


def _create_quietly(client: Client, name: str) -> str:
    try:
        return client.create_experiment(name)
    except AlreadyExists:  # created meanwhile by another process
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def get_experiment(experiment_id: str) -> Experiment:
    """One experiment."""
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment called ``name``, or None."""
    return _client().get_experiment_by_name(name)


# runs -------------------------------------------------------------------------------------------


def start_run(  # noqa: PLR0917 - MLflow's signature
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it active; use it as a context manager.

    A new run is tagged with where its code comes from (``pack.tracking.source``: the entry script,
    its git commit, branch, origin and dirty flag), under the ``tags`` given.

    Without ``run_id``, a top-level run resumes the run ``PACK_RUN_ID`` names when it is set (as
    ``pack run`` sets it for a project's command), like MLflow's ``MLFLOW_RUN_ID``.

    Raises:
        InvalidInput: a run is already active and ``nested`` is False.
        NotFound: unknown ``run_id`` or experiment.
    """
    stack = _runs.stack
    if stack and not nested:
        raise InvalidInput(
            f"run {stack[-1].info.run_id} is already active; end it first or call start_run(nested=True)"
        )
    client = _client()
    if run_id is None and not stack:
        run_id = _AttachSettings().run_id
    if run_id is not None:
        client.update_run(run_id, status=RunStatus.RUNNING.value)
        run = client.get_run(run_id)
    else:
        all_tags = {**source_tags(), **{str(k): str(v) for k, v in (tags or {}).items()}}
        parent = parent_run_id or (stack[-1].info.run_id if stack else None)
        if parent is not None:
            all_tags[PARENT_RUN_TAG] = parent
        if description:
            all_tags[NOTE_TAG] = description
        experiment = experiment_id or _runs.experiment_id or DEFAULT_EXPERIMENT_ID
        run = client.create_run(str(experiment), tags=all_tags, run_name=run_name)
    active = ActiveRun(info=run.info, data=run.data)
    stack.append(active)
    with _runs.lock:
        _runs.last_run_id = active.info.run_id
        if not _runs.atexit_registered:
            atexit.register(_end_all_runs)
            _runs.atexit_registered = True
    return active


def end_run(status: str = RunStatus.FINISHED.value) -> None:
    """End the innermost active run (no-op when none is active)."""
    if not _runs.stack:
        return
    run = _runs.stack.pop()
    _runs.last_run_id = run.info.run_id
    _client().set_terminated(run.info.run_id, status)


def active_run() -> ActiveRun | None:
    """The innermost active run of this thread, or None."""
    return _runs.stack[-1] if _runs.stack else None


def last_active_run() -> Run | None:
    """The active run, or else the one that ended last."""
    current = active_run()
    if current is not None:
        return _client().get_run(current.info.run_id)
    last = _runs.last_run_id
    return None if last is None else _client().get_run(last)


def get_run(run_id: str) -> Run:
    """One run."""
    return _client().get_run(run_id)


def _run_id() -> str:
    current = active_run()
    return (current or start_run()).info.run_id


def _end_all_runs() -> None:
    while _runs.stack:
        try:
            end_run()
        except Exception:  # the database may be gone at exit; nothing useful to do
            _runs.stack.clear()


# logging ----------------------------------------------------------------------------------------


def log_param(key: str, value: Any) -> Any:
    """Log a param to the active run (started if needed); returns ``value``."""
    return _client().log_param(_run_id(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Log several params in one transaction."""
    _client().log_batch(_run_id(), params=[Param(str(k), str(v)) for k, v in params.items()])


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    """Log a metric value (history is kept)."""
    _client().log_metric(_run_id(), key, value, timestamp=timestamp, step=step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
    """Log several metric values in one transaction."""
    when = timestamp or time.time_ns() // 1_000_000
    batch = [Metric(str(k), float(v), when, step or 0) for k, v in metrics.items()]
    _client().log_batch(_run_id(), metrics=batch)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    _client().set_tag(_run_id(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags in one transaction."""
    _client().log_batch(_run_id(), tags=[RunTag(str(k), str(v)) for k, v in tags.items()])


def delete_tag(key: str) -> None:
    """Delete a tag of the active run."""
    _client().delete_tag(_run_id(), key)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> None:
    """Copy a local file or directory into the active run's artifacts."""
    _client().log_artifact(_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> None:
    """Copy a local directory's contents into the active run's artifacts."""
    _client().log_artifacts(_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    """Write text as an artifact file of the active run."""
    _client().log_text(_run_id(), text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> None:
    """Write a dict as a JSON/YAML artifact file of the active run."""
    _client().log_dict(_run_id(), dictionary, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """Where the active run's artifacts (or one of them) are stored."""
    current = active_run()
    if current is None:
        raise NotFound("no active run")
    root = current.info.artifact_uri
    rel = safe_relpath(artifact_path or "")
    return f"{root}/{rel}" if rel else root


__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_tag",
    "end_run",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "set_experiment",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
