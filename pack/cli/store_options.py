"""``--backend-store-uri`` / ``--default-artifact-root``: where the registry CLI commands look.

The CLI's composition root: settings are built once here, at the edge, from these flags and the
``PACK_*`` environment, and the ``Services`` wired from them live as long as the command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from pack.registry.services import Services
    from pack.registry.settings import RegistrySettings

F = TypeVar("F", bound=Callable[..., Any])


def store_options(command: F) -> F:
    """Add the store location flags (defaults: ``PACK_TRACKING_URI``, ``PACK_DEFAULT_ARTIFACT_ROOT``)."""
    command = click.option(
        "--default-artifact-root",
        "default_artifact_root",
        default=None,
        allow_from_autoenv=False,
        help="Folder or URL for new files [env PACK_DEFAULT_ARTIFACT_ROOT; default ./packruns].",
    )(command)
    command = click.option(
        "--backend-store-uri",
        "backend_store_uri",
        default=None,
        allow_from_autoenv=False,
        help="Tracking/registry database [env PACK_TRACKING_URI; default sqlite:///pack.db].",
    )(command)
    return command


def build_settings(backend_store_uri: str | None, default_artifact_root: str | None) -> RegistrySettings:
    """Settings from the environment, with the flags on top."""
    from pack.registry.settings import RegistrySettings  # lazy: pydantic only for commands that use the store

    overrides: dict[str, Any] = {}
    if backend_store_uri:
        overrides["tracking_uri"] = backend_store_uri
    if default_artifact_root:
        overrides["default_artifact_root"] = default_artifact_root
    return RegistrySettings(**overrides)


def open_services(backend_store_uri: str | None = None, default_artifact_root: str | None = None) -> Services:
    """The command's ``Services`` for the flags and environment, closed when the command ends."""
    from pack.registry.services import Services

    services = Services.from_settings(build_settings(backend_store_uri, default_artifact_root))
    click.get_current_context().call_on_close(services.close)
    return services


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of a table.")

__all__ = ["build_settings", "json_option", "open_services", "store_options"]
