"""The model registry: registered models, versions, stages, aliases, history, and their files.

``RegistryClient`` carries MLflow's registry method names; ``Registry`` (``service``) holds the
lifecycle rules; ``ModelRef`` parses ``models:/`` URIs; stores live in ``pack.registry.sql``.
"""

from pack.registry.client import RegistryClient
from pack.registry.entities import (
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
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    Stage,
    ViewType,
)
from pack.registry.refs import ModelRef, RunArtifactRef
from pack.registry.service import Registry
from pack.registry.store import RegistryStore, TrackingStore
from pack.registry.uris import resolve_uri

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
    "RegistryStore",
    "Run",
    "RunArtifactRef",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "Stage",
    "TrackingStore",
    "ViewType",
    "resolve_uri",
]
