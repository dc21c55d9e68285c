"""The one plugin loader.

Every extension point is a *group*: a table of built-in ``name -> "module:attr"`` targets merged
with the Python entry points of the same group name. Targets are imported only when asked for, and
nothing registers itself by being imported.

Groups:
    ``pack.flavors``          Flavor objects (see ``pack.flavors.base.Flavor``)
    ``pack.uri_resolvers``    ``pack.uris.Resolver`` callables ``(uri) -> ResolvedModel``, by URI scheme
    ``pack.artifact_stores``  artifact store classes, by URL scheme
    ``pack.deployments``      deployment target modules, by target name (``pack.deploy.targets``)
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from pack.errors import NotFound, PackError

BUILTINS: dict[str, dict[str, str]] = {
    "pack.flavors": {
        "sklearn": "pack.flavors.sklearn:FLAVOR",
        "python_function": "pack.flavors.python_model:FLAVOR",
        "pytorch": "pack.flavors.pytorch:FLAVOR",
        "keras": "pack.flavors.keras:FLAVOR",
        "tensorflow": "pack.flavors.tensorflow:FLAVOR",
        "onnx": "pack.flavors.onnx:FLAVOR",
    },
    "pack.uri_resolvers": {
        "models": "pack.registry.uris:resolve_uri",
        "runs": "pack.registry.uris:resolve_uri",
    },
    "pack.artifact_stores": {},
    "pack.deployments": {
        "docker": "pack.deploy.docker",
        "kubernetes": "pack.deploy.kubernetes",
        "sagemaker": "pack.deploy.sagemaker",
    },
}
_KINDS = {
    "pack.flavors": "flavor",
    "pack.uri_resolvers": "URI scheme",
    "pack.artifact_stores": "artifact store",
    "pack.deployments": "deployment target",
}


@cache
def _entry_points(group: str) -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=group)}


def targets(group: str) -> dict[str, str]:
    """All ``name -> "module:attr"`` targets of a group; built-ins win over entry points."""
    if group not in BUILTINS:
        raise PackError(f"unknown plugin group {group!r}")
    return {**_entry_points(group), **BUILTINS[group]}


def names(group: str) -> list[str]:
    """Sorted plugin names of a group."""
    return sorted(targets(group))


def load(group: str, name: str) -> Any:
    """Import and return the plugin ``name`` of ``group``.

    Raises:
        NotFound: no plugin of that name is known.
        PackError: the plugin's module failed to import.
    """
    target = targets(group).get(name)
    if target is None:
        known = ", ".join(names(group)) or "none"
        raise NotFound(f"unknown {_KINDS[group]} {name!r} (known: {known})")
    return _import_target(target)


def _import_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


__all__ = ["BUILTINS", "load", "names", "targets"]
