"""Typed settings of the scoring server, built once at the edge (the CLI) and passed down."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pack.errors import InvalidInput

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class ModelSpec:
    """One model to serve: the name and version clients use, and the local model directory."""

    name: str
    path: Path
    version: str = "1"

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise InvalidInput(f"invalid model name {self.name!r}: use letters, digits, '_', '.' or '-' (at most 128)")
        if not NAME_PATTERN.match(self.version):
            raise InvalidInput(f"invalid model version {self.version!r} for model {self.name!r}")


@dataclass(frozen=True)
class ServingSettings:
    """How ``pack serve`` listens, batches and limits requests.

    Attributes:
        host: interface to listen on (``0.0.0.0`` in a container).
        port: TCP port (0 picks a free one).
        workers: server processes sharing the port; each loads its own copy of the models.
        timeout: seconds a scoring request may take (queueing included) before it gets a 504.
        max_batch_size: most rows merged into one predict call; 1 turns batching off.
        max_batch_delay_ms: how long a batch may wait for more requests once the first arrived;
            0 (the default) never waits: requests that arrive during a predict join the next one.
        max_body_size_mb: largest request body accepted (413 above it).
        drain_timeout: seconds a SIGTERM waits for in-flight requests before closing them.
        access_log: log one line per request.
        log_level: ``debug``, ``info``, ``warning`` or ``error``.
        model_config: flavor load options passed to every model (e.g. ``trusted_types``).
            Models are loaded with ``load_config``: these plus ``workers``.
        safe_only: refuse models with executable content (pickles, custom Python models, model
            code) instead of warning; ``PACK_SAFE_ONLY=1`` has the same effect.
    """

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    timeout: float = 60.0
    max_batch_size: int = 1024
    max_batch_delay_ms: float = 0.0
    max_body_size_mb: float = 64.0
    drain_timeout: float = 30.0
    access_log: bool = False
    log_level: str = "info"
    model_config: Mapping[str, Any] = field(default_factory=dict)
    safe_only: bool = False

    def __post_init__(self) -> None:
        checks = (
            (0 <= self.port <= 65535, f"port must be between 0 and 65535, got {self.port}"),
            (self.workers >= 1, f"workers must be at least 1, got {self.workers}"),
            (self.timeout > 0, f"timeout must be positive, got {self.timeout}"),
            (self.max_batch_size >= 1, f"max batch size must be at least 1, got {self.max_batch_size}"),
            (self.max_batch_delay_ms >= 0, f"max batch delay must be >= 0, got {self.max_batch_delay_ms}"),
            (self.max_body_size_mb > 0, f"max body size must be positive, got {self.max_body_size_mb}"),
            (self.drain_timeout >= 0, f"drain timeout must be >= 0, got {self.drain_timeout}"),
            (
                self.log_level in ("debug", "info", "warning", "error"),
                f"log level must be debug, info, warning or error, got {self.log_level!r}",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise InvalidInput(message)

    @property
    def max_body_bytes(self) -> int:
        """The body limit in bytes."""
        return int(self.max_body_size_mb * 1024 * 1024)

    @property
    def load_config(self) -> dict[str, Any]:
        """What every model is loaded with: ``model_config`` plus the worker count.

        Flavors size their compute threads by ``workers`` (``pack.flavors.threads``: ONNX sessions,
        torch), so N workers on one machine share its CPUs instead of each taking all of them.
        """
        return {"workers": self.workers, **self.model_config}

    @property
    def max_batch_delay(self) -> float:
        """The batch delay in seconds."""
        return self.max_batch_delay_ms / 1000.0


__all__ = ["NAME_PATTERN", "ModelSpec", "ServingSettings"]
