"""The persistence layer below ``registry`` and ``tracking``: two Protocols and their implementations.

``TrackingStore`` (experiments, runs) and ``RegistryStore`` (registered models, versions, aliases,
history) are implemented on SQL in ``pack.store.sql``; files live in artifact stores
(``pack.store.artifacts``). Entities are frozen dataclasses in ``pack.store.entities``. The store never
decides policy; ``pack.registry.service`` does.
"""

from pack.store.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FileInfo,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    PagedList,
    Param,
    PromotionEvent,
    RegisteredModel,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    Stage,
    ViewType,
)
from pack.store.protocols import RegistryStore, TrackingStore

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "LoggedModelInput",
    "LoggedModelOutput",
    "Metric",
    "ModelVersion",
    "ModelVersionFile",
    "ModelVersionStatus",
    "PagedList",
    "Param",
    "PromotionEvent",
    "RegisteredModel",
    "RegistryStore",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "Stage",
    "TrackingStore",
    "ViewType",
]
