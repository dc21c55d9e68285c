"""The model registry: registered models, versions, stages, aliases, history, and their files.

``RegistryClient`` carries MLflow's registry method names; ``Registry`` (``service``) holds the
lifecycle rules and is what every registry call goes through; ``Services`` wires them from
``RegistrySettings``. Stores and entities live in ``pack.store``; ``ModelRef`` in ``pack.refs``.
"""

from pack.refs import ModelRef, RunArtifactRef
from pack.registry.client import RegistryClient
from pack.registry.service import Registry
from pack.registry.services import Services
from pack.registry.settings import RegistrySettings
from pack.store import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    PagedList,
    Param,
    PromotionEvent,
    RegisteredModel,
    RegistryStore,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    Stage,
    TrackingStore,
    ViewType,
)

__all__ = [
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "Metric",
    "ModelRef",
    "ModelVersion",
    "ModelVersionFile",
    "ModelVersionStatus",
    "PagedList",
    "Param",
    "PromotionEvent",
    "RegisteredModel",
    "Registry",
    "RegistryClient",
    "RegistrySettings",
    "RegistryStore",
    "Run",
    "RunArtifactRef",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "Services",
    "Stage",
    "TrackingStore",
    "ViewType",
]
