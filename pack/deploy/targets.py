"""Targets: ``docker``, ``kubernetes``, ``sagemaker`` built in, others from the ``pack.deployments`` group.

A target URI is ``<target>`` or ``<target>:/<suffix>`` (MLflow's form): the part before ``:`` names the
plugin, the whole URI goes to its client. A plugin is a module (entry point ``name = module``) that
defines exactly one ``BaseDeploymentClient`` subclass and a ``target_help()`` function, as MLflow's
``mlflow.deployments`` plugins do.
"""

from __future__ import annotations

import inspect
import os
import re
from types import ModuleType

from pack import _plugins
from pack.builders.base import ProgressCallback
from pack.deploy.base import BaseDeploymentClient
from pack.errors import InvalidInput, NotFound, PackError

GROUP = "pack.deployments"
TARGET_ENV = "PACK_DEPLOYMENTS_TARGET"
_TARGET = re.compile(r"^[A-Za-z][A-Za-z0-9_.+-]*$")


def parse_target_uri(target_uri: str) -> str:
    """The plugin name of a target URI (``sagemaker:/us-east-1`` -> ``sagemaker``).

    Raises:
        InvalidInput: the URI has no usable target name.
    """
    name = target_uri.split(":", 1)[0].strip()
    if not _TARGET.match(name):
        raise InvalidInput(f"invalid deployment target {target_uri!r} (use <target> or <target>:/<suffix>)")
    return name


def available_targets() -> list[str]:
    """Names of every installed target."""
    return _plugins.names(GROUP)


def target_module(target_uri: str) -> ModuleType:
    """The plugin module of a target URI, checked to be one.

    Raises:
        InvalidInput: no such target (the message lists the installed ones).
        PackError: the module is not a deployment plugin.
    """
    name = parse_target_uri(target_uri)
    try:
        module = _plugins.load(GROUP, name)
    except NotFound:
        raise InvalidInput(
            f"unknown deployment target {name!r} (installed: {', '.join(available_targets())})"
        ) from None
    if not isinstance(module, ModuleType):
        raise PackError(f"deployment plugin {name!r} must name a module, not {type(module).__name__}")
    client_class(module)  # fail now, not at first use
    if not callable(getattr(module, "target_help", None)):
        raise PackError(f"deployment plugin {name!r} ({module.__name__}) has no target_help() function")
    return module


def client_class(module: ModuleType) -> type[BaseDeploymentClient]:
    """The one ``BaseDeploymentClient`` subclass a plugin module defines (or imports).

    Raises:
        PackError: there is none, or more than one.
    """
    found = {
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, BaseDeploymentClient)
        and obj is not BaseDeploymentClient
        and not inspect.isabstract(obj)
    }
    if len(found) != 1:
        names = ", ".join(sorted(cls.__name__ for cls in found)) or "none"
        raise PackError(
            f"deployment plugin {module.__name__} must define exactly one BaseDeploymentClient subclass "
            f"(found: {names})"
        )
    return found.pop()


def get_deploy_client(target_uri: str | None = None, progress: ProgressCallback | None = None) -> BaseDeploymentClient:
    """The client of a target: ``"docker"``, ``"kubernetes"``, ``"sagemaker[:/region]"`` or ``"<plugin>:/..."``.

    Args:
        target_uri: the target; default ``PACK_DEPLOYMENTS_TARGET``.
        progress: receives progress messages, when the client's constructor takes ``progress``.

    Raises:
        InvalidInput: no target given, or an unknown one.
    """
    target_uri = target_uri or os.environ.get(TARGET_ENV)
    if not target_uri:
        raise InvalidInput(f"no deployment target: pass one (docker, kubernetes, sagemaker) or set {TARGET_ENV}")
    cls = client_class(target_module(target_uri))
    if progress is not None and "progress" in inspect.signature(cls).parameters:
        return cls(target_uri, progress=progress)
    return cls(target_uri)


def target_help(target_uri: str) -> str:
    """What a target says about its URI and ``-C`` keys."""
    help_text: str = target_module(target_uri).target_help()
    return help_text


__all__ = [
    "GROUP",
    "TARGET_ENV",
    "available_targets",
    "client_class",
    "get_deploy_client",
    "parse_target_uri",
    "target_help",
    "target_module",
]
