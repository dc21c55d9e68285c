"""``SqlTrackingStore``: the ``TrackingStore`` Protocol on SQL, over its experiments and runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pack.store.entities import Experiment, Metric, PagedList, Param, Run, RunInfo, RunStatus, RunTag, ViewType
from pack.store.sql.database import Database
from pack.store.sql.experiments import SqlExperiments
from pack.store.sql.runs import SqlRuns


class SqlTrackingStore:
    """Implements ``pack.store.TrackingStore`` (MLflow's method names) with ``experiments`` and ``runs``.

    New experiments keep their files under ``<artifact_root>/<experiment_id>``.
    """

    def __init__(self, db: Database, artifact_root: str) -> None:
        self.experiments = SqlExperiments(db, artifact_root)
        self.runs = SqlRuns(db, self.experiments)

    # experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        """See ``TrackingStore.create_experiment``."""
        return self.experiments.create(name, artifact_location, tags)

    def default_experiment_id(self) -> str:
        """See ``TrackingStore.default_experiment_id``."""
        return self.experiments.default_id()

    def get_experiment(self, experiment_id: str) -> Experiment:
        """See ``TrackingStore.get_experiment``."""
        return self.experiments.get(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """See ``TrackingStore.get_experiment_by_name``."""
        return self.experiments.get_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """See ``TrackingStore.search_experiments``."""
        return self.experiments.search(view_type, max_results, filter_string, order_by, page_token)

    def delete_experiment(self, experiment_id: str) -> None:
        """See ``TrackingStore.delete_experiment``."""
        self.experiments.delete(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        """See ``TrackingStore.restore_experiment``."""
        self.experiments.restore(experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """See ``TrackingStore.rename_experiment``."""
        self.experiments.rename(experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """See ``TrackingStore.set_experiment_tag``."""
        self.experiments.set_tag(experiment_id, key, value)

    # runs

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """See ``TrackingStore.create_run``."""
        return self.runs.create(experiment_id, user_id=user_id, start_time=start_time, tags=tags, run_name=run_name)

    def get_run(self, run_id: str) -> Run:
        """See ``TrackingStore.get_run``."""
        return self.runs.get(run_id)

    def update_run_info(
        self, run_id: str, status: RunStatus | str, end_time: int | None = None, run_name: str | None = None
    ) -> RunInfo:
        """See ``TrackingStore.update_run_info``."""
        return self.runs.update_info(run_id, status, end_time, run_name)

    def delete_run(self, run_id: str) -> None:
        """See ``TrackingStore.delete_run``."""
        self.runs.delete(run_id)

    def restore_run(self, run_id: str) -> None:
        """See ``TrackingStore.restore_run``."""
        self.runs.restore(run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """See ``TrackingStore.log_batch``."""
        self.runs.log_batch(run_id, metrics, params, tags)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """See ``TrackingStore.log_param``."""
        self.runs.log_batch(run_id, params=[Param(key, str(value))])

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """See ``TrackingStore.log_metric``."""
        self.runs.log_batch(run_id, metrics=[metric])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """See ``TrackingStore.set_tag``."""
        self.runs.log_batch(run_id, tags=[RunTag(key, str(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        """See ``TrackingStore.delete_tag``."""
        self.runs.delete_tag(run_id, key)

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Metric]:
        """See ``TrackingStore.get_metric_history``."""
        return self.runs.metric_history(run_id, key, max_results, page_token)

    def search_runs(  # noqa: PLR0917 - MLflow's signature
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """See ``TrackingStore.search_runs``."""
        return self.runs.search(experiment_ids, filter_string, run_view_type, max_results, order_by, page_token)


__all__ = ["SqlTrackingStore"]
