"""Deployments: put a model version on a target (Docker, Kubernetes, SageMaker, plugins) and keep it there.

The layer above the builders: a target builds (or reuses) what the builders make, runs it, rolls a
new version out without a window of unavailability, and reports which version runs where. Names are
imported lazily: ``python3 -m pack.deploy.proxy`` runs inside images that have no Docker SDK.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pack.deploy.base import BaseDeploymentClient, DeployedModel, Deployment
    from pack.deploy.targets import get_deploy_client, target_help

_LAZY = {
    "BaseDeploymentClient": "pack.deploy.base",
    "DeployedModel": "pack.deploy.base",
    "Deployment": "pack.deploy.base",
    "get_deploy_client": "pack.deploy.targets",
    "target_help": "pack.deploy.targets",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pack.deploy' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = ["BaseDeploymentClient", "DeployedModel", "Deployment", "get_deploy_client", "target_help"]
