"""MLflow's REST entities (protobuf JSON with snake_case names) to and from ``pack.store.entities``.

Rules of the wire: unset fields are absent, tag lists are ``[{"key", "value"}]``, int64 arrive as
numbers (or strings, which protobuf's JSON mapping also allows), doubles that are not finite travel as
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, and ``ModelVersion.version`` is a string.

pack's own server adds, and MLflow's client ignores, these fields on a ``ModelVersion``:
``size_bytes``, ``file_count``, ``flavors`` (list) and ``signature``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pack.errors import InvalidInput
from pack.store.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    FileInfo,
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    PromotionEvent,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    Stage,
)

Json = dict[str, Any]


def tags_json(tags: Mapping[str, str] | None) -> list[Json]:
    """``{k: v}`` as ``[{"key": k, "value": v}]``."""
    return [{"key": str(k), "value": str(v)} for k, v in (tags or {}).items()]


def tags_of(items: Any) -> dict[str, str]:
    """``[{"key", "value"}]`` as a dict."""
    return {str(t["key"]): str(t.get("value", "")) for t in items or ()}


def double(value: Any, what: str) -> float | str:
    """A double for the wire (non-finite values as protobuf's strings).

    Raises:
        InvalidInput: not a number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{what} must be a number, got {value!r}") from None
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def _int(value: Any, default: int | None = None) -> int | None:
    return default if value is None or value == "" else int(value)


def metric_json(metric: Metric) -> Json:
    """A ``Metric`` for ``log-metric`` / ``log-batch`` (with the logged model and dataset it is about)."""
    document: Json = {
        "key": metric.key,
        "value": double(metric.value, f"metric {metric.key!r}"),
        "timestamp": int(metric.timestamp),
        "step": int(metric.step or 0),
    }
    extra = {"model_id": metric.model_id, "dataset_name": metric.dataset_name, "dataset_digest": metric.dataset_digest}
    document.update({k: v for k, v in extra.items() if v is not None})
    return document


def metric_of(item: Json) -> Metric:
    """A wire ``Metric`` (``MetricWithRunId`` too)."""
    return Metric(
        key=str(item["key"]),
        value=float(item.get("value", 0.0)),
        timestamp=_int(item.get("timestamp"), 0) or 0,
        step=_int(item.get("step"), 0) or 0,
        model_id=item.get("model_id") or None,
        dataset_name=item.get("dataset_name") or None,
        dataset_digest=item.get("dataset_digest") or None,
        run_id=item.get("run_id") or None,
    )


def dataset_input_json(item: DatasetInput) -> Json:
    """A ``DatasetInput`` for ``runs/log-inputs``."""
    dataset = item.dataset
    fields = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
        "schema": dataset.schema,
        "profile": dataset.profile,
    }
    return {"tags": tags_json(item.tags), "dataset": {k: v for k, v in fields.items() if v is not None}}


def dataset_summary_of(item: Json) -> DatasetSummary:
    """A wire ``DatasetSummary``."""
    return DatasetSummary(
        experiment_id=str(item.get("experiment_id", "")),
        name=str(item.get("name", "")),
        digest=str(item.get("digest", "")),
        context=item.get("context") or None,
    )


def logged_model_of(item: Json) -> LoggedModel:
    """A wire ``LoggedModel`` (``info`` and ``data``)."""
    info = item.get("info") or {}
    data = item.get("data") or {}
    return LoggedModel(
        model_id=str(info["model_id"]),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        status=str(info.get("status", "")),
        creation_timestamp=_int(info.get("creation_timestamp_ms"), 0) or 0,
        last_updated_timestamp=_int(info.get("last_updated_timestamp_ms"), 0) or 0,
        source_run_id=info.get("source_run_id") or None,
        model_type=info.get("model_type") or None,
        tags=tags_of(info.get("tags")),
        params=tags_of(data.get("params")),
        metrics=tuple(metric_of(m) for m in data.get("metrics") or ()),
    )


def experiment_of(item: Json) -> Experiment:
    """A wire ``Experiment``."""
    return Experiment(
        experiment_id=str(item["experiment_id"]),
        name=str(item.get("name", "")),
        artifact_location=str(item.get("artifact_location", "")),
        lifecycle_stage=str(item.get("lifecycle_stage", LifecycleStage.ACTIVE.value)),
        tags=tags_of(item.get("tags")),
        creation_time=_int(item.get("creation_time")),
        last_update_time=_int(item.get("last_update_time")),
    )


def run_info_of(item: Json) -> RunInfo:
    """A wire ``RunInfo`` (``run_id``, or the older ``run_uuid``)."""
    return RunInfo(
        run_id=str(item.get("run_id") or item["run_uuid"]),
        experiment_id=str(item.get("experiment_id", "")),
        run_name=str(item.get("run_name", "")),
        user_id=str(item.get("user_id", "")),
        status=str(item.get("status", "RUNNING")),
        start_time=_int(item.get("start_time"), 0) or 0,
        end_time=_int(item.get("end_time")),
        artifact_uri=str(item.get("artifact_uri", "")),
        lifecycle_stage=str(item.get("lifecycle_stage", LifecycleStage.ACTIVE.value)),
    )


def run_of(item: Json) -> Run:
    """A wire ``Run``: info, data (latest metric values), inputs and outputs."""
    data = item.get("data") or {}
    inputs = item.get("inputs") or {}
    outputs = item.get("outputs") or {}
    return Run(
        info=run_info_of(item["info"]),
        data=RunData(
            metrics={str(m["key"]): float(m.get("value", 0.0)) for m in data.get("metrics") or ()},
            params={str(p["key"]): str(p.get("value", "")) for p in data.get("params") or ()},
            tags=tags_of(data.get("tags")),
        ),
        inputs=RunInputs(
            dataset_inputs=tuple(_dataset_input(d) for d in inputs.get("dataset_inputs") or ()),
            model_inputs=tuple(LoggedModelInput(str(m["model_id"])) for m in inputs.get("model_inputs") or ()),
        ),
        outputs=RunOutputs(
            model_outputs=tuple(
                LoggedModelOutput(str(m["model_id"]), _int(m.get("step"), 0) or 0)
                for m in outputs.get("model_outputs") or ()
            )
        ),
    )


def _dataset_input(item: Json) -> DatasetInput:
    dataset = item.get("dataset") or {}
    return DatasetInput(
        dataset=Dataset(
            name=str(dataset.get("name", "")),
            digest=str(dataset.get("digest", "")),
            source_type=str(dataset.get("source_type", "")),
            source=str(dataset.get("source", "")),
            schema=dataset.get("schema"),
            profile=dataset.get("profile"),
        ),
        tags=tags_of(item.get("tags")),
    )


def file_info_of(item: Json) -> FileInfo:
    """A wire ``FileInfo``."""
    is_dir = bool(item.get("is_dir", False))
    return FileInfo(path=str(item["path"]), is_dir=is_dir, file_size=None if is_dir else _int(item.get("file_size"), 0))


def model_version_of(item: Json) -> ModelVersion:
    """A wire ``ModelVersion`` (``version`` is a string there)."""
    return ModelVersion(
        name=str(item["name"]),
        version=int(item["version"]),
        creation_timestamp=_int(item.get("creation_timestamp"), 0) or 0,
        last_updated_timestamp=_int(item.get("last_updated_timestamp"), 0) or 0,
        current_stage=str(item.get("current_stage") or Stage.NONE.value),
        description=item.get("description") or None,
        user_id=item.get("user_id") or None,
        source=item.get("source") or None,
        run_id=item.get("run_id") or None,
        run_link=item.get("run_link") or None,
        status=str(item.get("status") or ModelVersionStatus.READY.value),
        status_message=item.get("status_message") or None,
        tags=tags_of(item.get("tags")),
        aliases=tuple(str(a) for a in item.get("aliases") or ()),
        size_bytes=_int(item.get("size_bytes")),
        file_count=_int(item.get("file_count")),
        flavors=tuple(str(f) for f in item.get("flavors") or ()),
        signature=item.get("signature") or None,
        model_id=item.get("model_id") or None,
    )


def registered_model_of(item: Json) -> RegisteredModel:
    """A wire ``RegisteredModel`` (aliases ``[{"alias", "version"}]``)."""
    return RegisteredModel(
        name=str(item["name"]),
        creation_timestamp=_int(item.get("creation_timestamp"), 0) or 0,
        last_updated_timestamp=_int(item.get("last_updated_timestamp"), 0) or 0,
        description=item.get("description") or None,
        tags=tags_of(item.get("tags")),
        aliases={str(a["alias"]): int(a["version"]) for a in item.get("aliases") or ()},
        latest_versions=tuple(model_version_of(v) for v in item.get("latest_versions") or ()),
    )


def file_checksum_of(item: Json) -> ModelVersionFile:
    """One recorded file of a version (pack's extension)."""
    return ModelVersionFile(path=str(item["path"]), sha256=str(item["sha256"]), size=int(item["size"]))


def promotion_event_of(item: Json) -> PromotionEvent:
    """One stage or alias change (pack's extension)."""
    return PromotionEvent(
        id=int(item["id"]),
        name=str(item["name"]),
        version=int(item["version"]),
        kind=str(item["kind"]),
        alias=item.get("alias"),
        from_value=item.get("from"),
        to_value=item.get("to"),
        user=str(item.get("user", "")),
        timestamp=_int(item.get("timestamp"), 0) or 0,
        reason=item.get("reason"),
    )


__all__ = [
    "Json",
    "dataset_input_json",
    "dataset_summary_of",
    "double",
    "experiment_of",
    "file_checksum_of",
    "file_info_of",
    "logged_model_of",
    "metric_json",
    "metric_of",
    "model_version_of",
    "promotion_event_of",
    "registered_model_of",
    "run_info_of",
    "run_of",
    "tags_json",
    "tags_of",
]
