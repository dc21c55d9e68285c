"""Typed settings of the scoring server: ``PACK_SERVE_*`` environment variables, validated once at the edge.

``ServingSettings`` is a pydantic-settings model (the project's one settings mechanism): the CLI passes
the options given on its command line, the environment fills in the rest, and every field carries its
bounds and its documentation. The app and the workers receive the one frozen instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from pack.checksums import FileChecksum
from pack.errors import InvalidInput
from pack.settings import PackSettings

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ModelSpec:
    """One model to serve: the name and version clients use, and the local model directory.

    ``files`` is the registry's record of a registered version's files: every process that loads the
    model checks the directory against it first (a changed file is never served). ``mlmodel`` is the
    already-parsed MLmodel, so a served model's MLmodel is read once.
    """

    name: str
    path: Path
    version: str = "1"
    files: tuple[FileChecksum, ...] | None = None
    mlmodel: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise InvalidInput(f"invalid model name {self.name!r}: use letters, digits, '_', '.' or '-' (at most 128)")
        if not NAME_PATTERN.match(self.version):
            raise InvalidInput(f"invalid model version {self.version!r} for model {self.name!r}")


def _words(value: Any) -> Any:
    """``"a, b"`` (an environment variable) -> ``("a", "b")``; lists pass through."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


class ServingSettings(PackSettings):
    """How ``pack serve`` listens, batches and bounds what a client can hold (``PACK_SERVE_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="PACK_SERVE_", case_sensitive=False, extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Interface to listen on (0.0.0.0 in a container).")
    port: int = Field(default=5000, ge=0, le=65535, description="TCP port (0: any free port).")
    workers: int = Field(default=1, ge=1, le=256, description="Worker processes sharing the port.")
    timeout: float = Field(
        default=60.0, gt=0, description="Seconds a scoring request may take, queueing included (504)."
    )
    max_batch_size: int = Field(
        default=1024, ge=1, description="Most rows merged into one predict call (1: no batching)."
    )
    max_batch_delay_ms: float = Field(
        default=0.0, ge=0, description="How long a batch waits for more requests once the first arrived (0: never)."
    )
    max_body_size: float = Field(default=16.0, gt=0, description="Largest request body, in MB (413 above it).")
    body_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a client has to send a whole request body (408)."
    )
    keep_alive_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds an idle connection, or one still sending its request headers, stays open.",
    )
    max_concurrency: int = Field(
        default=128, ge=1, description="Scoring requests handled at once per worker (503 with Retry-After above it)."
    )
    max_queue_rows: int = Field(
        default=65536, ge=1, description="Rows waiting for one model per worker (503 with Retry-After above it)."
    )
    ready_grace: float = Field(
        default=5.0, ge=0, description="Seconds past --timeout a predict may run before readiness answers 503."
    )
    liveness_timeout: float = Field(
        default=300.0,
        gt=0,
        description="Seconds one predict may run before liveness answers 503 (the replica is restarted).",
    )
    drain_timeout: float = Field(
        default=30.0, ge=0, description="Seconds SIGTERM waits for in-flight requests; then exit."
    )
    allowed_hosts: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        description="Host header values accepted ('*': any). Default: loopback names when bound to a loopback "
        "address, any otherwise.",
    )
    cors_allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Browser origins allowed to call the API (CORS; '*': any). Default: none."
    )
    auth_token: SecretStr | None = Field(
        default=None, description="Bearer token required on scoring and metadata routes (health routes stay open)."
    )
    expose_errors: bool = Field(default=False, description="Send model error messages to clients (development only).")
    safe_only: bool = Field(
        default=False,
        description="Refuse models with executable content (pickles, custom Python models, model code); "
        "PACK_SAFE_ONLY=1 has the same effect.",
    )
    access_log: bool = Field(default=False, description="Log one line per request.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Server log level.")
    accelerate: bool = Field(
        default=False,
        description="Compile scikit-learn tree ensembles at load (onnxruntime's tree kernel, else native code), "
        "verified on the input example (else the model stays on scikit-learn, and the log says why).",
    )
    load_options: dict[str, Any] = Field(
        default_factory=dict, description="Flavor load options for every model (e.g. trusted_types)."
    )

    @field_validator("allowed_hosts", "cors_allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _words(value)

    @classmethod
    def build(cls, **given: Any) -> ServingSettings:
        """Settings from ``given`` (what the command line set) over ``PACK_SERVE_*`` over the defaults.

        Raises:
            InvalidInput: a value is out of its bounds (the message names the variable and the field).
        """
        return cls(**given)

    @property
    def max_body_bytes(self) -> int:
        """The body limit in bytes."""
        return int(self.max_body_size * 1024 * 1024)

    @property
    def load_config(self) -> dict[str, Any]:
        """What every model is loaded with: ``load_options`` plus the worker count.

        Flavors size their compute threads by ``workers`` (``pack.flavors.threads``: ONNX sessions,
        torch), so N workers on one machine share its CPUs instead of each taking all of them.
        """
        return {"workers": self.workers, **self.load_options}

    @property
    def max_batch_delay(self) -> float:
        """The batch delay in seconds."""
        return self.max_batch_delay_ms / 1000.0

    @property
    def hosts(self) -> tuple[str, ...]:
        """The Host names accepted: ``allowed_hosts``, or the default for the bound address."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return LOOPBACK_HOSTS if self.host in LOOPBACK_HOSTS or self.host.startswith("127.") else ("*",)


__all__ = ["LOOPBACK_HOSTS", "NAME_PATTERN", "ModelSpec", "ServingSettings"]
