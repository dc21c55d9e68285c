"""What a tracking or registry store must do: the seam between the policy above and persistence below.

``pack.store.sql`` implements both Protocols on SQLAlchemy; a client of ``pack server`` implements
them over MLflow's REST API. Method names are those of MLflow's ``AbstractStore`` where one exists;
entities are ``pack.store.entities``; pages are ``PagedList`` with an opaque ``token``.

Stores persist; they do not decide. Name rules, READY-only promotion and the archive policy live in
``pack.registry.service``. Every method is atomic; stage and alias changes write their promotion
history event in the same transaction. Errors: ``NotFound``, ``AlreadyExists``, ``InvalidInput``,
``RegistryError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from pack.store.accounts import ApiToken, User
from pack.store.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
    ModelVersion,
    ModelVersionFile,
    PagedList,
    Param,
    PromotionEvent,
    RegisteredModel,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    Stage,
    ViewType,
)


class RegistryStore(Protocol):
    """Registered models, versions, tags, aliases and their history."""

    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel: ...
    def get_registered_model(self, name: str) -> RegisteredModel: ...
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]: ...
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel: ...
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...
    def delete_registered_model(self, name: str) -> list[str]: ...
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None: ...
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...
    def get_latest_versions(self, name: str, stages: Sequence[Stage] | None = None) -> list[ModelVersion]: ...
    def create_model_version(
        self,
        name: str,
        *,
        source: str | None,
        storage_location: Callable[[int], str],
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion: ...
    def finish_model_version(
        self,
        name: str,
        version: int,
        files: Sequence[ModelVersionFile],
        *,
        flavors: Sequence[str] = (),
        signature: str | None = None,
    ) -> ModelVersion: ...
    def fail_model_version(self, name: str, version: int, message: str) -> bool:
        """Mark a PENDING version FAILED_REGISTRATION; True if it was still pending."""
        ...

    def get_model_version(self, name: str, version: int) -> ModelVersion: ...
    def get_model_version_files(self, name: str, version: int) -> list[ModelVersionFile]: ...
    def get_model_version_download_uri(self, name: str, version: int) -> str: ...
    def update_model_version(self, name: str, version: int, description: str | None) -> ModelVersion: ...
    def transition_model_version_stage(
        self, name: str, version: int, stage: Stage, *, archive_existing_versions: bool, user: str
    ) -> ModelVersion: ...
    def delete_model_version(self, name: str, version: int, *, user: str) -> str | None: ...
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]: ...
    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None: ...
    def delete_model_version_tag(self, name: str, version: int, key: str) -> None: ...
    def set_registered_model_alias(self, name: str, alias: str, version: int, *, user: str) -> None: ...
    def delete_registered_model_alias(self, name: str, alias: str, *, user: str) -> None: ...
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion: ...
    def get_highest_version(self, name: str, stage: Stage | None = None) -> ModelVersion: ...
    def get_history(
        self, name: str, version: int | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> PagedList[PromotionEvent]: ...


class TrackingStore(Protocol):
    """Experiments and runs."""

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str: ...
    def default_experiment_id(self) -> str: ...
    def get_experiment(self, experiment_id: str) -> Experiment: ...
    def get_experiment_by_name(self, name: str) -> Experiment | None: ...
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]: ...
    def delete_experiment(self, experiment_id: str) -> None: ...
    def restore_experiment(self, experiment_id: str) -> None: ...
    def rename_experiment(self, experiment_id: str, new_name: str) -> None: ...
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...
    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]: ...
    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
    ) -> Run: ...
    def get_run(self, run_id: str) -> Run: ...
    def update_run_info(
        self, run_id: str, status: RunStatus | str, end_time: int | None = None, run_name: str | None = None
    ) -> RunInfo: ...
    def delete_run(self, run_id: str) -> None: ...
    def restore_run(self, run_id: str) -> None: ...
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None: ...
    def log_param(self, run_id: str, key: str, value: Any) -> None: ...
    def log_metric(self, run_id: str, metric: Metric) -> None: ...
    def set_tag(self, run_id: str, key: str, value: Any) -> None: ...
    def delete_tag(self, run_id: str, key: str) -> None: ...
    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Metric]: ...
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int = 320,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """Each run's values of ``key`` at up to ``max_results`` of its steps (evenly spread, first and
        last included), ``Metric.run_id`` set; at most 100 runs and 2,500 points per run."""
        ...

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput] = (), models: Sequence[LoggedModelInput] = ()
    ) -> None: ...
    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None: ...
    def search_runs(  # noqa: PLR0917 - MLflow's signature
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]: ...

    # MLflow 3 logged models (``m-<hex>``): files under ``LoggedModel.artifact_location``; metrics reach
    # them through ``log_batch`` with ``Metric.model_id`` set.
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        *,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel: ...
    def get_logged_model(self, model_id: str) -> LoggedModel: ...
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel: ...
    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> LoggedModel: ...
    def delete_logged_model_tag(self, model_id: str, key: str) -> None: ...
    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None: ...
    def delete_logged_model(self, model_id: str) -> None: ...
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]: ...


class AuthStore(Protocol):
    """Users of ``pack server --auth`` (a global role, a password hash) and their API tokens (stored as
    sha256). Persistence only: hashing and role rules live in ``pack.server.auth``."""

    def create_user(self, username: str, password_hash: str, role: str) -> User: ...
    def get_user(self, username: str) -> User: ...
    def list_users(self) -> list[User]: ...
    def update_user(self, username: str, *, role: str | None = None, password_hash: str | None = None) -> User: ...
    def delete_user(self, username: str) -> None: ...
    def create_token(self, username: str, token_hash: str, name: str) -> ApiToken: ...
    def user_for_token(self, token_hash: str) -> User | None: ...
    def list_tokens(self, username: str | None = None) -> list[ApiToken]: ...
    def delete_token(self, token_id: int) -> None: ...


__all__ = ["AuthStore", "RegistryStore", "TrackingStore"]
