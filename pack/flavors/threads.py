"""How many compute threads one model copy should use when several serving workers share a machine.

``workers`` comes from the load config (``model_config["workers"]``; ``pack.flavors.pyfunc.load_model``
fills it from ``PACK_SERVE_WORKERS`` when the caller does not say); each copy then gets
``usable CPUs // workers`` threads (at least one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pack.errors import InvalidInput


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def declared_workers(config: Mapping[str, Any]) -> int | None:
    """The worker count the load config declares, if any.

    Raises:
        InvalidInput: the value is not a positive integer.
    """
    raw = config.get("workers")
    if raw is None or raw == "":
        return None
    try:
        workers = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"workers must be a positive integer, got {raw!r}") from None
    if workers < 1:
        raise InvalidInput(f"workers must be a positive integer, got {raw!r}")
    return workers


def threads_per_worker(workers: int) -> int:
    """Threads for one of ``workers`` processes sharing the usable CPUs."""
    return max(1, usable_cpus() // max(1, workers))


__all__ = ["declared_workers", "threads_per_worker", "usable_cpus"]
