"""The persistence layer below ``registry`` and ``tracking``: two Protocols and their implementations.

``TrackingStore`` (experiments, runs) and ``RegistryStore`` (registered models, versions, aliases,
history) are implemented on SQL in ``pack.store.sql``; files live in artifact stores
(``pack.store.artifacts``). Entities are frozen dataclasses in ``pack.store.entities``. The store never
decides policy; ``pack.registry.service`` does.
"""

from pack.store.accounts import ApiToken, User
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
    LoggedModelStatus,
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
from pack.store.protocols import AuthStore, RegistryStore, TrackingStore

__all__ = [
    "ApiToken",
    "AuthStore",
    "Dataset",
    "DatasetInput",
    "DatasetSummary",
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelOutput",
    "LoggedModelStatus",
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
    "User",
    "ViewType",
]
