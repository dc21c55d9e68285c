"""``RestTrackingStore``: the ``TrackingStore`` Protocol over MLflow's REST API (``pack server`` or
``mlflow server``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pack.errors import NotFound
from pack.store.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
    now_ms,
)
from pack.store.rest import wire
from pack.store.rest.connection import RestConnection
from pack.store.rest.logged_models import LoggedModelCalls
from pack.store.tags import USER_TAG

API = "/api/2.0/mlflow"
AJAX_API = "/ajax-api/2.0/mlflow"  # the UI's prefix: MLflow's server answers search-datasets only there
DEFAULT_EXPERIMENT_ID = "0"
# MLflow's server refuses larger batches; bigger ones are sent in several requests, params first.
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
HISTORY_PAGE = 25_000


class RestTrackingStore(LoggedModelCalls):
    """Implements ``pack.store.TrackingStore`` by calling a tracking server through ``connection``
    (logged models: ``LoggedModelCalls``)."""

    def __init__(self, connection: RestConnection) -> None:
        self.connection = connection

    def _get(self, endpoint: str, **params: Any) -> wire.Json:
        return self.connection.get(f"{API}/{endpoint}", params)

    def _post(self, endpoint: str, *, idempotent: bool = False, **body: Any) -> wire.Json:
        return self.connection.post(f"{API}/{endpoint}", body, idempotent=idempotent)

    # experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, str] | None = None
    ) -> str:
        """See ``TrackingStore.create_experiment``."""
        answer = self._post(
            "experiments/create", name=name, artifact_location=artifact_location, tags=wire.tags_json(tags)
        )
        return str(answer["experiment_id"])

    def default_experiment_id(self) -> str:
        """See ``TrackingStore.default_experiment_id`` (a tracking server's is always ``0``)."""
        return DEFAULT_EXPERIMENT_ID

    def get_experiment(self, experiment_id: str) -> Experiment:
        """See ``TrackingStore.get_experiment``."""
        return wire.experiment_of(self._get("experiments/get", experiment_id=experiment_id)["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """See ``TrackingStore.get_experiment_by_name``."""
        try:
            answer = self._get("experiments/get-by-name", experiment_name=name)
        except NotFound:
            return None
        return wire.experiment_of(answer["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """See ``TrackingStore.search_experiments``."""
        answer = self._post(
            "experiments/search",
            idempotent=True,
            view_type=ViewType(view_type).name,
            max_results=max_results,
            filter=filter_string or None,
            order_by=list(order_by or []) or None,
            page_token=page_token or None,
        )
        found = [wire.experiment_of(e) for e in answer.get("experiments") or ()]
        return PagedList(found, answer.get("next_page_token") or None)

    def delete_experiment(self, experiment_id: str) -> None:
        """See ``TrackingStore.delete_experiment``."""
        self._post("experiments/delete", idempotent=True, experiment_id=experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        """See ``TrackingStore.restore_experiment``."""
        self._post("experiments/restore", idempotent=True, experiment_id=experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """See ``TrackingStore.rename_experiment``."""
        self._post("experiments/update", idempotent=True, experiment_id=experiment_id, new_name=new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """See ``TrackingStore.set_experiment_tag``."""
        self._post(
            "experiments/set-experiment-tag", idempotent=True, experiment_id=experiment_id, key=key, value=str(value)
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """See ``TrackingStore.delete_experiment_tag``."""
        self._post("experiments/delete-experiment-tag", idempotent=True, experiment_id=experiment_id, key=key)

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """See ``TrackingStore.search_datasets`` (under the UI's prefix, where MLflow's server serves it)."""
        body = {"experiment_ids": list(experiment_ids)}
        answer = self.connection.post(f"{AJAX_API}/experiments/search-datasets", body, idempotent=True)
        return [wire.dataset_summary_of(d) for d in answer.get("dataset_summaries") or ()]

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
        """See ``TrackingStore.create_run`` (``mlflow.user`` is recorded as the SQL store records it)."""
        all_tags = {USER_TAG: user_id, **(tags or {})}
        answer = self._post(
            "runs/create",
            experiment_id=str(experiment_id),
            user_id=user_id,
            run_name=run_name or None,
            start_time=now_ms() if start_time is None else int(start_time),
            tags=wire.tags_json(all_tags),
        )
        return wire.run_of(answer["run"])

    def get_run(self, run_id: str) -> Run:
        """See ``TrackingStore.get_run``."""
        return wire.run_of(self._get("runs/get", run_id=run_id, run_uuid=run_id)["run"])

    def update_run_info(
        self, run_id: str, status: RunStatus | str, end_time: int | None = None, run_name: str | None = None
    ) -> RunInfo:
        """See ``TrackingStore.update_run_info``."""
        answer = self._post(
            "runs/update",
            idempotent=True,
            run_id=run_id,
            run_uuid=run_id,
            status=RunStatus.parse(status).value,
            end_time=end_time,
            run_name=run_name or None,
        )
        info = answer.get("run_info")
        return wire.run_info_of(info) if info else self.get_run(run_id).info

    def delete_run(self, run_id: str) -> None:
        """See ``TrackingStore.delete_run``."""
        self._post("runs/delete", idempotent=True, run_id=run_id)

    def restore_run(self, run_id: str) -> None:
        """See ``TrackingStore.restore_run``."""
        self._post("runs/restore", idempotent=True, run_id=run_id)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """See ``TrackingStore.log_batch``: one request (one transaction on the server) unless the batch
        exceeds MLflow's limits (1,000 metrics, 100 params, 100 tags), then several, params first."""
        encoded = [wire.metric_json(m) for m in metrics]  # bad values fail before anything is sent
        for part in _chunks(params, tags, encoded):
            self._post("runs/log-batch", run_id=run_id, **part)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """See ``TrackingStore.log_param``."""
        self._post("runs/log-parameter", idempotent=True, run_id=run_id, run_uuid=run_id, key=key, value=str(value))

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """See ``TrackingStore.log_metric``."""
        self._post("runs/log-metric", run_id=run_id, run_uuid=run_id, **wire.metric_json(metric))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """See ``TrackingStore.set_tag``."""
        self._post("runs/set-tag", idempotent=True, run_id=run_id, run_uuid=run_id, key=key, value=str(value))

    def delete_tag(self, run_id: str, key: str) -> None:
        """See ``TrackingStore.delete_tag``."""
        self._post("runs/delete-tag", idempotent=True, run_id=run_id, key=key)

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Metric]:
        """See ``TrackingStore.get_metric_history`` (every value when ``max_results`` is None)."""
        if max_results is not None:
            answer = self._history(run_id, key, max_results, page_token)
            return PagedList([wire.metric_of(m) for m in answer.get("metrics") or ()], answer.get("next_page_token"))
        found: list[Metric] = []
        token = page_token
        while True:
            answer = self._history(run_id, key, HISTORY_PAGE, token)
            found += [wire.metric_of(m) for m in answer.get("metrics") or ()]
            token = answer.get("next_page_token") or None
            if token is None:
                return PagedList(found, None)

    def _history(self, run_id: str, key: str, max_results: int, page_token: str | None) -> wire.Json:
        return self._get(
            "metrics/get-history",
            run_id=run_id,
            run_uuid=run_id,
            metric_key=key,
            max_results=max_results,
            page_token=page_token or None,
        )

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        max_results: int = 320,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Metric]:
        """See ``TrackingStore.get_metric_history_bulk_interval`` (the server down-samples)."""
        answer = self._get(
            "metrics/get-history-bulk-interval",
            run_ids=list(run_ids),
            metric_key=key,
            max_results=max_results,
            start_step=start_step,
            end_step=end_step,
        )
        return [wire.metric_of(m) for m in answer.get("metrics") or ()]

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput] = (), models: Sequence[LoggedModelInput] = ()
    ) -> None:
        """See ``TrackingStore.log_inputs``."""
        self._post(
            "runs/log-inputs",
            run_id=run_id,
            datasets=[wire.dataset_input_json(d) for d in datasets] or None,
            models=[{"model_id": m.model_id} for m in models] or None,
        )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """See ``TrackingStore.log_outputs``."""
        self._post(
            "runs/outputs",
            idempotent=True,
            run_id=run_id,
            models=[{"model_id": m.model_id, "step": m.step} for m in models],
        )

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
        answer = self._post(
            "runs/search",
            idempotent=True,
            experiment_ids=[str(e) for e in experiment_ids],
            filter=filter_string or None,
            run_view_type=ViewType(run_view_type).name,
            max_results=max_results,
            order_by=list(order_by or []) or None,
            page_token=page_token or None,
        )
        return PagedList([wire.run_of(r) for r in answer.get("runs") or ()], answer.get("next_page_token") or None)


def _chunks(params: Sequence[Param], tags: Sequence[RunTag], metrics: list[wire.Json]) -> Iterator[dict[str, Any]]:
    """``log-batch`` bodies within MLflow's limits; one body when the batch fits."""
    param_items = [{"key": p.key, "value": str(p.value)} for p in params]
    tag_items = [{"key": t.key, "value": str(t.value)} for t in tags]
    size = MAX_PARAMS_TAGS_PER_BATCH
    if (
        len(param_items) <= size
        and len(tag_items) <= size
        and len(metrics) + len(param_items) + len(tag_items) <= (MAX_METRICS_PER_BATCH)
    ):
        yield {"params": param_items or None, "tags": tag_items or None, "metrics": metrics or None}
        return
    for start in range(0, len(param_items), size):
        yield {"params": param_items[start : start + size]}
    for start in range(0, len(tag_items), size):
        yield {"tags": tag_items[start : start + size]}
    for start in range(0, len(metrics), MAX_METRICS_PER_BATCH):
        yield {"metrics": metrics[start : start + MAX_METRICS_PER_BATCH]}


__all__ = ["API", "RestTrackingStore"]
