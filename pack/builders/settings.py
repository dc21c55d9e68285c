"""Builder settings from ``PACK_*`` variables (built once by the CLI and passed to the builders)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from pack.settings import PackSettings


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pack"


class BuildSettings(PackSettings):
    """``PACK_CACHE_DIR``: where downloaded wheels and pack's own wheel are cached.

    The default is ``$XDG_CACHE_HOME/pack`` (``~/.cache/pack``).
    """

    cache_dir: Path = Field(default_factory=_user_cache)


__all__ = ["BuildSettings"]
