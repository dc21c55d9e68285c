"""The cyclic garbage collector paused while a store builds a large page of entities.

Building 10,000 version entities allocates some 70,000 container objects. Every 700 of them start a
collection of the young generation, every tenth of those the next one, and when enough objects have
piled up, a full collection walks every object of the process (about 90 ms in a process that has
imported scikit-learn, several times the cost of building the page). The entities hold no reference
cycles, so none of that work finds garbage: ``collector_paused`` turns the collector off for the
duration and restores it afterwards. Nothing is leaked: the objects allocated meanwhile are examined
by the first collection after the pause, as they would have been.

The collector is process-wide, so the pause is too: nested and concurrent pauses (threads of one
server) share one count, and the collector is re-enabled when the last of them ends, only if it was
enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (for bodies that build no reference cycles)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


__all__ = ["collector_paused"]
