"""Settings conventions: typed, from ``PACK_*`` environment variables, built once at the edge.

Each subsystem declares its own settings class deriving from ``PackSettings`` (for example
``pack.serving.settings.ServingSettings``); the CLI builds it once and passes it down by constructor.
Nothing reads the environment anywhere else.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PackSettings(BaseSettings):
    """Base class: ``PACK_`` prefix, case-insensitive names, unknown variables ignored."""

    model_config = SettingsConfigDict(env_prefix="PACK_", case_sensitive=False, extra="ignore", frozen=True)


__all__ = ["PackSettings"]
