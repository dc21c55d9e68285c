"""How this process loads models, from ``PACK_*`` variables: read at the edge (a ``pyfunc.load_model``
call that does not say how many workers share the machine) and passed to flavors as load options.
The CLI's load options are flags (``pack.cli.load_options``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pack.settings import PackSettings


class LoadSettings(PackSettings):
    """``PACK_SERVE_WORKERS``."""

    serve_workers: int | None = Field(default=None, ge=1, le=1024)
    """Processes sharing this machine's CPUs, each with its own copy of the model: compute threads
    per copy are ``usable CPUs // serve_workers`` (the ``-w`` of ``pack serve``)."""

    def load_config(self) -> dict[str, Any]:
        """These settings as flavor load options (``workers``), the unset ones left out."""
        return {} if self.serve_workers is None else {"workers": self.serve_workers}


__all__ = ["LoadSettings"]
