"""The scoring server: MLflow's /invocations and the Open Inference Protocol (V2) over Starlette.

``pack serve`` is the command; ``create_app(models, settings)`` is the ASGI app for any server.
Nothing here imports the registry: the CLI resolves model URIs to local directories first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pack.serving.settings import ModelSpec, ServingSettings

if TYPE_CHECKING:
    from pack.serving.app import ServingApp, create_app
    from pack.serving.server import serve

_LAZY = {
    "ServingApp": "pack.serving.app",
    "create_app": "pack.serving.app",
    "serve": "pack.serving.server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pack.serving' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = ["ModelSpec", "ServingApp", "ServingSettings", "create_app", "serve"]
