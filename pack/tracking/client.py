"""``pack.Client``: MLflow's ``MlflowClient`` (tracking and registry methods, same names and arguments).

client = pack.Client()                       # PACK_TRACKING_URI, default sqlite:///pack.db
client.create_registered_model("m")
client.create_model_version("m", source="runs:/<run_id>/model", run_id="<run_id>")
client.transition_model_version_stage("m", 1, "Production")
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from pack._fs import safe_relpath
from pack.errors import InvalidInput, NotFound
from pack.registry.client import RegistryClient, with_uris
from pack.registry.default import process_default
from pack.registry.services import Services
from pack.registry.settings import RegistrySettings
from pack.store.artifacts import ArtifactStore
from pack.store.entities import (
    Experiment,
    FileInfo,
    Metric,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
    now_ms,
)
from pack.store.tags import PARENT_RUN_TAG


class Client(RegistryClient):
    """Experiments, runs, artifacts, and (inherited) the model registry."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        registry_uri: str | None = None,
        *,
        settings: RegistrySettings | None = None,
        services: Services | None = None,
    ) -> None:
        if services is None:
            default = process_default()
            services = default.services(with_uris(settings or default.settings(), tracking_uri, registry_uri))
        super().__init__(services=services)
        self._tracking = services.tracking
        self._runs = services.runs

    @property
    def tracking_uri(self) -> str:
        """The tracking database."""
        return self._services.settings.tracking_uri

    # experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> str:
        """Create an experiment; its id."""
        tags_ = {str(k): str(v) for k, v in (tags or {}).items()}
        return self._tracking.create_experiment(name, artifact_location, tags_)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """One experiment."""
        return self._tracking.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment called ``name``, or None."""
        return self._tracking.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching ``name``/``tags.<key>`` clauses."""
        return self._tracking.search_experiments(view_type, max_results, filter_string, order_by, page_token)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment."""
        self._tracking.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment."""
        self._tracking.restore_experiment(experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment."""
        self._tracking.rename_experiment(experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set an experiment tag."""
        self._tracking.set_experiment_tag(experiment_id, key, str(value))

    # runs

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Start a RUNNING run in an experiment."""
        tags_ = {str(k): str(v) for k, v in (tags or {}).items()}
        return self._tracking.create_run(
            experiment_id,
            user_id=self._services.settings.effective_user,
            start_time=start_time,
            tags=tags_,
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """One run with params, tags and latest metrics."""
        return self._tracking.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """The parent of a nested run, or None."""
        parent = self.get_run(run_id).data.tags.get(PARENT_RUN_TAG)
        return None if parent is None else self.get_run(parent)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status and/or name."""
        info = self.get_run(run_id).info
        self._tracking.update_run_info(run_id, status or info.status, info.end_time, name)

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        """End a run (``FINISHED`` unless ``status`` says otherwise)."""
        self._tracking.update_run_info(
            run_id, RunStatus.parse(status or RunStatus.FINISHED.value), end_time or now_ms()
        )

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run."""
        self._tracking.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Restore a deleted run."""
        self._tracking.restore_run(run_id)

    def search_runs(  # noqa: PLR0917 - MLflow's signature
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs matching e.g. ``metrics.acc > 0.9 AND params.depth = '8'``; newest first."""
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self._tracking.search_runs(ids, filter_string, run_view_type, max_results, order_by, page_token)

    # params, metrics, tags

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Log a param (immutable once logged); returns ``value``."""
        self._tracking.log_param(run_id, key, value)
        return value

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int | None = None
    ) -> None:
        """Log one metric value (history is kept)."""
        self._tracking.log_metric(run_id, Metric(key, value, timestamp or now_ms(), step or 0))

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags in one transaction."""
        self._tracking.log_batch(run_id, metrics, params, tags)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set a run tag."""
        self._tracking.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag."""
        self._tracking.delete_tag(run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every value logged for a metric."""
        return self._tracking.get_metric_history(run_id, key)

    # artifacts

    def log_artifact(self, run_id: str, local_path: str | Path, artifact_path: str | None = None) -> None:
        """Copy a local file or directory into the run's artifacts (under ``artifact_path``)."""
        source = Path(local_path)
        if not source.exists():
            raise NotFound(f"no file or directory at {source}")
        dest = _join(artifact_path, source.name)
        if source.is_dir():
            self.log_artifacts(run_id, source, dest)
        else:
            self.artifact_store(run_id).put_file(source, dest)

    def log_artifacts(self, run_id: str, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Copy the contents of a local directory into the run's artifacts."""
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFound(f"no directory at {source}")
        store = self.artifact_store(run_id)
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            store.put_file(path, _join(artifact_path, path.relative_to(source).as_posix()))

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write ``text`` as an artifact file."""
        self._log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Write a dict as a JSON (or YAML, by suffix) artifact file."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml

            payload = yaml.safe_dump(dict(dictionary), sort_keys=False).encode()
        else:
            payload = orjson.dumps(dict(dictionary), option=orjson.OPT_INDENT_2)
        self._log_bytes(run_id, payload, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """One level of the run's artifacts."""
        return self.artifact_store(run_id).ls(safe_relpath(path or ""))

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Copy a run artifact to a local directory (a temporary one by default); the local path."""
        rel = safe_relpath(path)
        dest_dir = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="pack-artifacts-"))
        dest = dest_dir / (rel.rsplit("/", 1)[-1] if rel else "artifacts")
        return str(self.artifact_store(run_id).download(rel, dest))

    def artifact_store(self, run_id: str) -> ArtifactStore:
        """The artifact store at a run's artifact root (pack's addition)."""
        return self._runs.artifact_store(run_id)

    def _log_bytes(self, run_id: str, payload: bytes, artifact_file: str) -> None:
        rel = safe_relpath(artifact_file)
        if not rel:
            raise InvalidInput("artifact_file must name a file")
        with tempfile.TemporaryDirectory(prefix="pack-artifact-") as tmp:
            local = Path(tmp) / "payload"
            local.write_bytes(payload)
            self.artifact_store(run_id).put_file(local, rel)


def _join(artifact_path: str | None, name: str) -> str:
    base = safe_relpath(artifact_path or "")
    return safe_relpath(f"{base}/{name}" if base else name)


MlflowClient = Client
"""MLflow's name, so ``from pack.tracking import MlflowClient`` works unchanged."""

__all__ = ["Client", "MlflowClient"]
