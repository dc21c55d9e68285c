"""How this process loads models, from ``PACK_*`` variables: read once at an edge (a CLI command, a
``pyfunc.load_model`` call without an explicit worker count) and passed to flavors as load options."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pack.settings import PackSettings


class LoadSettings(PackSettings):
    """``PACK_TRUSTED_TYPES`` and ``PACK_SERVE_WORKERS``."""

    trusted_types: str = ""
    """Comma-separated extra types skops may load (``module.Class``), beyond the safe defaults."""

    serve_workers: int | None = Field(default=None, ge=1, le=1024)
    """Processes sharing this machine's CPUs, each with its own copy of the model: compute threads
    per copy are ``usable CPUs // serve_workers`` (the ``-w`` of ``pack serve``)."""

    def trusted_type_names(self) -> list[str]:
        """``trusted_types`` as a list."""
        return [name.strip() for name in self.trusted_types.split(",") if name.strip()]

    def load_config(self) -> dict[str, Any]:
        """These settings as flavor load options (``trusted_types``, ``workers``), the unset ones left out."""
        config: dict[str, Any] = {}
        if self.trusted_type_names():
            config["trusted_types"] = self.trusted_type_names()
        if self.serve_workers is not None:
            config["workers"] = self.serve_workers
        return config


__all__ = ["LoadSettings"]
