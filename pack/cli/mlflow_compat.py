"""MLflow's spellings that mean the same in pack: ``--env-manager local``, ``--no-conda``, ``pack models serve``.

pack runs a model in the Python environment it is called from (an image built by ``pack build-docker``
carries the model's own environment), so ``--env-manager local`` (and MLflow 1.x's ``--no-conda``) is
accepted and changes nothing; any other environment manager is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pack.errors import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")


def env_manager_options(accepted: tuple[str, ...], reason: str) -> Callable[[F], F]:
    """Add ``--env-manager`` (values in ``accepted`` pass, others fail with ``reason``) and ``--no-conda``."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None and value not in accepted:
            raise InvalidInput(f"--env-manager {value} is not supported: {reason}")
        return value

    def decorate(command: F) -> F:
        command = click.option(
            "--no-conda",
            is_flag=True,
            expose_value=False,
            allow_from_autoenv=False,
            help="Accepted for MLflow compatibility (pack never creates a conda environment).",
        )(command)
        return click.option(
            "--env-manager",
            type=click.Choice(ENV_MANAGERS),
            callback=check,
            expose_value=False,
            allow_from_autoenv=False,
            help=f"Accepted for MLflow compatibility: {' or '.join(accepted)}.",
        )(command)

    return decorate


LOCAL_ONLY = (
    "pack runs the model in this Python environment (--env-manager local); for the model's own "
    "environment build an image with pack build-docker"
)

__all__ = ["ENV_MANAGERS", "LOCAL_ONLY", "env_manager_options"]
