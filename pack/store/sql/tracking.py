"""``SqlTrackingStore``: the ``TrackingStore`` Protocol on SQL, over its experiments and runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pack.store.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from pack.store.sql.database import Database
from pack.store.sql.experiments import DEFAULT_EXPERIMENT_ID, SqlExperiments
from pack.store.sql.logged_models import SqlLoggedModels
from pack.store.sql.runs import SqlRuns


class SqlTrackingStore:
    """Implements ``pack.store.TrackingStore`` (MLflow's method names) with ``experiments``, ``runs``
    and ``logged_models``.

    New experiments keep their files under ``<artifact_root>/<experiment_id>``.
    """

    def __init__(self, db: Database, artifact_root: str) -> None:
        self.experiments = SqlExperiments(db, artifact_root)
        self.runs = SqlRuns(db, self.experiments)
        self.logged_models = SqlLoggedModels(db)

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

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """See ``TrackingStore.delete_experiment_tag``."""
        self.experiments.delete_tag(experiment_id, key)

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """See ``TrackingStore.search_datasets``."""
        return self.runs.search_datasets(experiment_ids)

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

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int = 320,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """See ``TrackingStore.get_metric_history_bulk_interval``."""
        return self.runs.metric_history_bulk_interval(run_ids, key, max_results, start_step, end_step)

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput] = (), models: Sequence[LoggedModelInput] = ()
    ) -> None:
        """See ``TrackingStore.log_inputs``."""
        self.runs.log_inputs(run_id, datasets, models)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """See ``TrackingStore.log_outputs``."""
        self.runs.log_outputs(run_id, models)

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

    # logged models

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        *,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """See ``TrackingStore.create_logged_model``."""
        if str(experiment_id) == DEFAULT_EXPERIMENT_ID:
            self.experiments.default_id()  # the Default experiment is created on first use, as create_run does
        return self.logged_models.create(
            experiment_id, name, source_run_id=source_run_id, tags=tags, params=params, model_type=model_type
        )

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """See ``TrackingStore.get_logged_model``."""
        return self.logged_models.get(model_id)

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """See ``TrackingStore.finalize_logged_model``."""
        return self.logged_models.finalize(model_id, status)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> LoggedModel:
        """See ``TrackingStore.set_logged_model_tags``."""
        return self.logged_models.set_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """See ``TrackingStore.delete_logged_model_tag``."""
        self.logged_models.delete_tag(model_id, key)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """See ``TrackingStore.log_logged_model_params``."""
        self.logged_models.log_params(model_id, params)

    def delete_logged_model(self, model_id: str) -> None:
        """See ``TrackingStore.delete_logged_model``."""
        self.logged_models.delete(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """See ``TrackingStore.search_logged_models``."""
        return self.logged_models.search(experiment_ids, filter_string, max_results, order_by, page_token)


__all__ = ["SqlTrackingStore"]
