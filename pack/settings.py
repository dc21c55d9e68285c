"""Settings conventions: typed, from ``PACK_*`` environment variables, built once at the edge.

Each area declares one settings class deriving from ``PackSettings``, with a docstring per field and
bounds where a value has them (``pack.registry.settings.RegistrySettings``,
``pack.builders.settings.BuildSettings``, ``pack.flavors.settings.LoadSettings``, ...). The edge (a CLI
command, the fluent API's default, a server app factory) builds it once and passes it down by
constructor. A bad value is an ``InvalidInput`` naming the variable, not a validation traceback.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pack.errors import InvalidInput

ENV_PREFIX = "PACK_"


class PackSettings(BaseSettings):
    """Base class: ``PACK_`` prefix, case-insensitive names, unknown variables ignored, frozen."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, case_sensitive=False, extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        """Read the environment, with ``values`` on top.

        Raises:
            InvalidInput: a value is out of bounds or of the wrong type.
        """
        try:
            super().__init__(**values)
        except ValidationError as exc:
            prefix = str(self.model_config.get("env_prefix") or "")
            problems = "; ".join(_describe(error, prefix) for error in exc.errors())
            raise InvalidInput(f"invalid setting: {problems}") from None


def _describe(error: Any, prefix: str) -> str:
    field = ".".join(str(part) for part in error.get("loc", ())) or "value"
    return f"{prefix}{field.upper()} ({field}) {error.get('msg', 'is invalid')}, got {error.get('input')!r}"


__all__ = ["ENV_PREFIX", "PackSettings"]
