"""pack: package, register, serve and ship ML models.

The top-level verbs are loaded lazily, so ``import pack`` touches no disk, network or framework.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pack._version import __version__

if TYPE_CHECKING:
    from pack.flavors.infer import infer_signature
    from pack.flavors.packaging import load_model, save_model
    from pack.flavors.schema import ModelSignature
    from pack.tracking.client import Client
    from pack.tracking.client import Client as MlflowClient
    from pack.tracking.fluent import (
        active_run,
        create_experiment,
        delete_tag,
        end_run,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_registry_uri,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        set_experiment,
        set_registry_uri,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )
    from pack.tracking.models import log_model, register_model

_LAZY = {
    "save_model": "pack.flavors.packaging:save_model",
    "load_model": "pack.flavors.packaging:load_model",
    "infer_signature": "pack.flavors.infer:infer_signature",
    "ModelSignature": "pack.flavors.schema:ModelSignature",
    # tracking and registry (MLflow's names)
    "active_run": "pack.tracking.fluent:active_run",
    "create_experiment": "pack.tracking.fluent:create_experiment",
    "delete_tag": "pack.tracking.fluent:delete_tag",
    "end_run": "pack.tracking.fluent:end_run",
    "get_artifact_uri": "pack.tracking.fluent:get_artifact_uri",
    "get_experiment": "pack.tracking.fluent:get_experiment",
    "get_experiment_by_name": "pack.tracking.fluent:get_experiment_by_name",
    "get_registry_uri": "pack.tracking.fluent:get_registry_uri",
    "get_run": "pack.tracking.fluent:get_run",
    "get_tracking_uri": "pack.tracking.fluent:get_tracking_uri",
    "last_active_run": "pack.tracking.fluent:last_active_run",
    "log_artifact": "pack.tracking.fluent:log_artifact",
    "log_artifacts": "pack.tracking.fluent:log_artifacts",
    "log_dict": "pack.tracking.fluent:log_dict",
    "log_metric": "pack.tracking.fluent:log_metric",
    "log_metrics": "pack.tracking.fluent:log_metrics",
    "log_param": "pack.tracking.fluent:log_param",
    "log_params": "pack.tracking.fluent:log_params",
    "log_text": "pack.tracking.fluent:log_text",
    "set_experiment": "pack.tracking.fluent:set_experiment",
    "set_registry_uri": "pack.tracking.fluent:set_registry_uri",
    "set_tag": "pack.tracking.fluent:set_tag",
    "set_tags": "pack.tracking.fluent:set_tags",
    "set_tracking_uri": "pack.tracking.fluent:set_tracking_uri",
    "start_run": "pack.tracking.fluent:start_run",
    "log_model": "pack.tracking.models:log_model",
    "register_model": "pack.tracking.models:register_model",
    "Client": "pack.tracking.client:Client",
    "MlflowClient": "pack.tracking.client:Client",
}
_SUBMODULES = {"pyfunc", "sklearn", "flavors", "errors", "registry", "tracking", "projects"}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is not None:
        module, _, attr = target.partition(":")
        value = getattr(import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f"pack.{name}")
    raise AttributeError(f"module 'pack' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBMODULES])


__all__ = [
    "Client",
    "MlflowClient",
    "ModelSignature",
    "__version__",
    "active_run",
    "create_experiment",
    "delete_tag",
    "end_run",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "infer_signature",
    "last_active_run",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "save_model",
    "set_experiment",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
