"""The project cache (``~/.cache/pack``, ``PACK_CACHE_DIR``): settings and the lock that guards its entries."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pack.settings import PackSettings


class ProjectSettings(PackSettings):
    """Where ``pack run`` keeps environments, git mirrors and working copies."""

    cache_dir: str | None = None
    """The cache root (default ``~/.cache/pack``); environments go under ``envs/``, git under ``projects/``."""

    @property
    def effective_cache_dir(self) -> Path:
        """The cache root as a path."""
        return Path(self.cache_dir).expanduser() if self.cache_dir else Path.home() / ".cache" / "pack"


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if needed) across processes."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["ProjectSettings", "exclusive"]
