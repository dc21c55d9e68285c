"""Entities as MLflow's REST JSON: snake_case protobuf JSON, int64 as numbers, empty fields omitted.

Tag maps become ``[{"key", "value"}]`` lists, ``ModelVersion.version`` a string, runs carry both
``run_id`` and ``run_uuid``. NaN and infinities are the strings protobuf JSON uses for doubles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pack.store import (
    DatasetSummary,
    Experiment,
    FileInfo,
    LoggedModel,
    Metric,
    ModelVersion,
    PromotionEvent,
    RegisteredModel,
    Run,
    RunInfo,
)

Json = dict[str, Any]


def compact(document: Mapping[str, Any]) -> Json:
    """``document`` without None values and empty lists/maps (protobuf JSON omits unset fields)."""
    return {k: v for k, v in document.items() if v is not None and v not in ([], {})}


def tags(mapping: Mapping[str, str]) -> list[Json]:
    """A tag map as MLflow's list of ``{key, value}``."""
    return [{"key": k, "value": v} for k, v in mapping.items()]


def number(value: float) -> float | str:
    """A double as protobuf JSON writes it (``"NaN"``, ``"Infinity"``, ``"-Infinity"`` as strings)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def experiment(e: Experiment) -> Json:
    """MLflow's ``Experiment``."""
    return compact(
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "artifact_location": e.artifact_location,
            "lifecycle_stage": e.lifecycle_stage,
            "last_update_time": e.last_update_time,
            "creation_time": e.creation_time,
            "tags": tags(e.tags),
        }
    )


def run_info(info: RunInfo) -> Json:
    """MLflow's ``RunInfo`` (``run_id`` and ``run_uuid`` both)."""
    return compact(
        {
            "run_id": info.run_id,
            "run_uuid": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": info.lifecycle_stage,
        }
    )


def metric(m: Metric) -> Json:
    """MLflow's ``Metric`` (``MetricWithRunId`` when ``run_id`` is set). On the hot path of metric
    history (50,000 points a request), so the usual fields are written directly."""
    value = m.value
    document: Json = {
        "key": m.key,
        "value": value if math.isfinite(value) else number(value),
        "timestamp": m.timestamp,
        "step": m.step,
    }
    if m.model_id is not None or m.dataset_name is not None or m.run_id is not None:
        document.update(
            compact(
                {
                    "dataset_name": m.dataset_name,
                    "dataset_digest": m.dataset_digest,
                    "model_id": m.model_id,
                    "run_id": m.run_id,
                }
            )
        )
    return document


def run(r: Run) -> Json:
    """MLflow's ``Run``: info, data (latest metric values), inputs, outputs."""
    data = compact(
        {
            "metrics": [{"key": k, "value": number(v), "timestamp": 0, "step": 0} for k, v in r.data.metrics.items()],
            "params": tags(r.data.params),
            "tags": tags(r.data.tags),
        }
    )
    inputs = compact(
        {
            "dataset_inputs": [
                {
                    "tags": tags(d.tags),
                    "dataset": compact(
                        {
                            "name": d.dataset.name,
                            "digest": d.dataset.digest,
                            "source_type": d.dataset.source_type,
                            "source": d.dataset.source,
                            "schema": d.dataset.schema,
                            "profile": d.dataset.profile,
                        }
                    ),
                }
                for d in r.inputs.dataset_inputs
            ],
            "model_inputs": [{"model_id": m.model_id} for m in r.inputs.model_inputs],
        }
    )
    outputs = compact({"model_outputs": [{"model_id": m.model_id, "step": m.step} for m in r.outputs.model_outputs]})
    return {"info": run_info(r.info), "data": data, "inputs": inputs, "outputs": outputs}


def file_info(f: FileInfo, path: str | None = None) -> Json:
    """MLflow's ``FileInfo`` (``path`` overrides the entity's)."""
    return compact({"path": path if path is not None else f.path, "is_dir": f.is_dir, "file_size": f.file_size})


def logged_model(m: LoggedModel, registrations: Iterable[Json] = ()) -> Json:
    """MLflow 3's ``LoggedModel``: ``info`` and ``data``."""
    info = compact(
        {
            "model_id": m.model_id,
            "experiment_id": m.experiment_id,
            "name": m.name,
            "artifact_uri": m.artifact_location,
            "status": m.status,
            "creation_timestamp_ms": m.creation_timestamp,
            "last_updated_timestamp_ms": m.last_updated_timestamp,
            "source_run_id": m.source_run_id,
            "model_type": m.model_type,
            "tags": tags(m.tags),
            "registrations": list(registrations),
        }
    )
    data = compact({"params": tags(m.params), "metrics": [metric(x) for x in m.metrics]})
    return {"info": info, "data": data}


def model_version(v: ModelVersion) -> Json:
    """MLflow's ``ModelVersion`` (``version`` as a string)."""
    return compact(
        {
            "name": v.name,
            "version": str(v.version),
            "creation_timestamp": v.creation_timestamp,
            "last_updated_timestamp": v.last_updated_timestamp,
            "user_id": v.user_id,
            "current_stage": v.current_stage,
            "description": v.description,
            "source": v.source,
            "run_id": v.run_id,
            "status": v.status,
            "status_message": v.status_message,
            "tags": tags(v.tags),
            "run_link": v.run_link,
            "aliases": list(v.aliases),
            "model_id": v.model_id,
        }
    )


def registered_model(m: RegisteredModel) -> Json:
    """MLflow's ``RegisteredModel`` (``aliases`` as ``[{alias, version}]``)."""
    return compact(
        {
            "name": m.name,
            "creation_timestamp": m.creation_timestamp,
            "last_updated_timestamp": m.last_updated_timestamp,
            "description": m.description,
            "latest_versions": [model_version(v) for v in m.latest_versions],
            "tags": tags(m.tags),
            "aliases": [{"alias": a, "version": str(v)} for a, v in m.aliases.items()],
        }
    )


def promotion_event(e: PromotionEvent) -> Json:
    """pack's promotion history event: a stage or alias change of a version, with who and when."""
    return compact(
        {
            "id": e.id,
            "name": e.name,
            "version": str(e.version),
            "kind": e.kind,
            "alias": e.alias,
            "from": e.from_value,
            "to": e.to_value,
            "user": e.user,
            "timestamp": e.timestamp,
            "reason": e.reason,
        }
    )


def dataset_summary(s: DatasetSummary) -> Json:
    """MLflow's ``DatasetSummary``."""
    return compact({"experiment_id": s.experiment_id, "name": s.name, "digest": s.digest, "context": s.context})


__all__ = [
    "Json",
    "compact",
    "dataset_summary",
    "experiment",
    "file_info",
    "logged_model",
    "metric",
    "model_version",
    "number",
    "promotion_event",
    "registered_model",
    "run",
    "run_info",
    "tags",
]
