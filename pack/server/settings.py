"""Typed settings of ``pack server``: ``PACK_SERVER_*`` environment variables under the command line."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from pack.errors import InvalidInput
from pack.registry.settings import (
    DEFAULT_ARTIFACT_ROOT,
    DEFAULT_TRACKING_URI,
    absolute_artifact_root,
    absolute_sqlite_uri,
)
from pack.settings import PackSettings

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _words(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


class ServerSettings(PackSettings):
    """How ``pack server`` stores, listens and bounds what a client can hold (``PACK_SERVER_<FIELD>``)."""

    model_config = SettingsConfigDict(env_prefix="PACK_SERVER_", case_sensitive=False, extra="ignore", frozen=True)

    backend_store_uri: str = Field(default=DEFAULT_TRACKING_URI, description="Database of runs and models.")
    registry_store_uri: str | None = Field(default=None, description="Database of models (default: the backend).")
    default_artifact_root: str = Field(
        default=DEFAULT_ARTIFACT_ROOT, description="Where files go when the server does not proxy them."
    )
    artifacts_destination: str | None = Field(
        default=None, description="Where proxied files are stored (default: the default artifact root)."
    )
    serve_artifacts: bool = Field(default=True, description="Proxy artifacts (mlflow-artifacts:/ locations).")
    host: str = Field(default="127.0.0.1", description="Interface to listen on.")
    port: int = Field(default=5000, ge=0, le=65535, description="TCP port (0: any free port).")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes sharing the port.")
    allowed_hosts: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        description="Host header values accepted ('*': any). Default: loopback names when bound to a loopback "
        "address, any otherwise.",
    )
    cors_allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Browser origins allowed to call the API (CORS; '*': any). Default: none."
    )
    auth: bool = Field(default=False, description="Require users (HTTP basic) or API tokens (bearer).")
    max_body_size: float = Field(default=16.0, gt=0, description="Largest API request body, in MB (413 above).")
    max_artifact_size: float = Field(
        default=50.0, gt=0, description="Largest artifact upload, in GB (413 above); uploads are streamed."
    )
    body_timeout: float = Field(default=60.0, gt=0, description="Seconds to send an API request body (408).")
    upload_idle_timeout: float = Field(
        default=60.0, gt=0, description="Seconds an artifact upload may stall between bytes (408)."
    )
    keep_alive_timeout: float = Field(
        default=5.0, gt=0, description="Seconds an idle connection, or one still sending its headers, stays open."
    )
    max_connections: int = Field(
        default=1000, ge=1, description="Connections and requests handled at once per worker (503 above it)."
    )
    drain_timeout: float = Field(default=30.0, ge=0, description="Seconds SIGTERM waits for in-flight requests.")
    cache_dir: str | None = Field(default=None, description="Local copies of remote registered versions.")
    access_log: bool = Field(default=False, description="Log one line per request.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Server log level.")

    @field_validator("allowed_hosts", "cors_allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _words(value)

    @field_validator("backend_store_uri", "registry_store_uri")
    @classmethod
    def _absolute_sqlite(cls, value: str | None) -> str | None:
        return absolute_sqlite_uri(value) if value else value

    @field_validator("default_artifact_root", "artifacts_destination")
    @classmethod
    def _absolute_root(cls, value: str | None) -> str | None:
        return absolute_artifact_root(value) if value else value

    @classmethod
    def build(cls, **given: Any) -> ServerSettings:
        """Settings from ``given`` (the command line; None means not given) over the environment.

        Raises:
            InvalidInput: a value out of its bounds (the message names the option, or the variable).
        """
        given = {k: v for k, v in given.items() if v is not None}
        for name, value in given.items():
            field = cls.model_fields[name]
            try:
                bounded: Any = Annotated[field.annotation, field]
                TypeAdapter(bounded).validate_python(value)
            except ValidationError as exc:
                flag = name.replace("_", "-")
                raise InvalidInput(f"--{flag}: {exc.errors()[0]['msg']}") from None
        return cls(**given)

    @property
    def destination(self) -> str | None:
        """Where proxied artifacts are stored (None when not serving artifacts)."""
        return (self.artifacts_destination or self.default_artifact_root) if self.serve_artifacts else None

    @property
    def hosts(self) -> tuple[str, ...]:
        """Host names accepted: ``allowed_hosts``, or the default for the bound address."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return LOOPBACK_HOSTS if self.loopback else ("*",)

    @property
    def loopback(self) -> bool:
        """Whether the server listens on a loopback address only (nobody else can reach it)."""
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    @property
    def max_body_bytes(self) -> int:
        """The API body limit in bytes."""
        return int(self.max_body_size * 1024 * 1024)

    @property
    def max_artifact_bytes(self) -> int:
        """The artifact upload limit in bytes."""
        return int(self.max_artifact_size * 1024**3)


__all__ = ["LOOPBACK_HOSTS", "ServerSettings"]
