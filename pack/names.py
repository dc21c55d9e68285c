"""Free text (a model's name or version) as a name another system accepts: the one cleaning function.

Each caller says which characters its target allows: a served model (``[A-Za-z0-9_.-]``), a Kubernetes
DNS label (lower-case alphanumerics and ``-``), a SageMaker resource (alphanumerics and ``-``), a
storage path segment. Validation of names pack itself accepts is elsewhere
(``pack.registry.names``).
"""

from __future__ import annotations

import re
from functools import cache

SERVED_NAME = "A-Za-z0-9_.-"
"""The characters of a served model's name or version (``pack serve``'s ``NAME:VERSION``)."""


def clean_name(
    text: str,
    *,
    allowed: str = SERVED_NAME,
    replacement: str = "-",
    strip: str = "-_.",
    max_length: int | None = None,
    lower: bool = False,
) -> str:
    """``text`` with each run of characters outside ``allowed`` (a regex character-class body) made
    ``replacement``, ``strip`` characters trimmed from both ends (again after cutting to
    ``max_length``). ``""`` when nothing is left: the caller picks a fallback or raises."""
    name = _outside(allowed).sub(replacement, text.lower() if lower else text).strip(strip)
    if max_length is not None:
        name = name[:max_length].strip(strip)
    return name


@cache
def _outside(allowed: str) -> re.Pattern[str]:
    return re.compile(f"[^{allowed}]+")


__all__ = ["SERVED_NAME", "clean_name"]
