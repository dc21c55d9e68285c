"""Registry and tracking settings (``PACK_TRACKING_URI``, ``PACK_DEFAULT_ARTIFACT_ROOT``, ...).

Built once at an edge (the CLI, a ``Client``, the first fluent call) and passed down by constructor;
library code below the edge never reads the environment itself.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from pack.checksums import VerifyMode
from pack.settings import PackSettings
from pack.uris import scheme_of

DEFAULT_TRACKING_URI = "sqlite:///pack.db"
DEFAULT_ARTIFACT_ROOT = "./packruns"


class RegistrySettings(PackSettings):
    """Where runs, models and their files live, and how they are checked."""

    model_config = SettingsConfigDict(
        env_prefix="PACK_", case_sensitive=False, extra="ignore", frozen=True, populate_by_name=True
    )

    tracking_uri: str = DEFAULT_TRACKING_URI
    """Database of experiments and runs (``sqlite:///file.db``, ``postgresql://...``) or a tracking
    server (``http(s)://host:port``: ``pack server`` or ``mlflow server``)."""

    registry_uri: str | None = None
    """Database or tracking server of registered models; the tracking one when unset."""

    tracking_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("pack_tracking_token", "mlflow_tracking_token")
    )
    """Bearer token sent to a tracking server (``PACK_TRACKING_TOKEN``, else ``MLFLOW_TRACKING_TOKEN``)."""

    tracking_username: str | None = Field(
        default=None, validation_alias=AliasChoices("pack_tracking_username", "mlflow_tracking_username")
    )
    """HTTP basic user for a tracking server (``PACK_``/``MLFLOW_TRACKING_USERNAME``); with a password,
    basic credentials are sent instead of the token, as MLflow's client does."""

    tracking_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("pack_tracking_password", "mlflow_tracking_password")
    )
    """HTTP basic password (``PACK_``/``MLFLOW_TRACKING_PASSWORD``)."""

    tracking_insecure_tls: bool = Field(
        default=False, validation_alias=AliasChoices("pack_tracking_insecure_tls", "mlflow_tracking_insecure_tls")
    )
    """Skip checking the tracking server's TLS certificate (for test setups only)."""

    http_timeout: float = Field(default=120.0, gt=0)
    """Seconds each request to a tracking server may take (``PACK_HTTP_TIMEOUT``)."""

    http_max_retries: int = Field(default=5, ge=0)
    """Retries of a failed request to a tracking server, with exponential backoff (``PACK_HTTP_MAX_RETRIES``):
    unreachable server for any call; 429/502/503/504 and broken connections for idempotent calls only."""

    default_artifact_root: str = DEFAULT_ARTIFACT_ROOT
    """Folder or fsspec URL (``s3://bucket/prefix``) under which run and model files are stored."""

    cache_dir: str | None = None
    """Local copies of models kept in remote artifact stores (default ``~/.cache/pack``)."""

    user: str | None = None
    """Who is recorded in runs and promotion history (default: the OS user)."""

    verify: VerifyMode = "cached"
    """Checksum policy when a ``models:/`` URI is resolved: ``cached`` hashes every file the first time
    in a process and again whenever a file's size, mtime, ctime or inode changes; ``always`` hashes
    every time; ``off`` checks only that the files exist with their recorded sizes."""

    artifact_fsync: bool = True
    """fsync registered files before a version becomes READY (durable across power loss)."""

    @field_validator("tracking_uri", "registry_uri")
    @classmethod
    def _absolute_sqlite(cls, value: str | None) -> str | None:
        return absolute_sqlite_uri(value) if value else value

    @field_validator("default_artifact_root")
    @classmethod
    def _absolute_root(cls, value: str) -> str:
        return absolute_artifact_root(value)

    @property
    def effective_registry_uri(self) -> str:
        """The registry database (the tracking database unless set)."""
        return self.registry_uri or self.tracking_uri

    @property
    def effective_user(self) -> str:
        """The user recorded for changes."""
        return self.user or current_os_user()

    @property
    def effective_cache_dir(self) -> Path:
        """Where remote model files are cached locally."""
        return Path(self.cache_dir).expanduser() if self.cache_dir else Path.home() / ".cache" / "pack"


def absolute_sqlite_uri(uri: str) -> str:
    """Make a relative ``sqlite:///file`` URI absolute (relative to the current directory)."""
    prefix = "sqlite:///"
    if scheme_of(uri) != "sqlite" or not uri.startswith(prefix) or uri == "sqlite:///:memory:":
        return uri
    rest = uri[len(prefix) :]
    path, sep, query = rest.partition("?")
    if path.startswith("/") or path == "":
        return uri
    return f"{prefix}{Path(path).expanduser().absolute().as_posix()}{sep}{query}"


def absolute_artifact_root(root: str) -> str:
    """Make a local artifact root an absolute path; URLs with a scheme are kept as they are."""
    scheme = scheme_of(root)
    if scheme == "file":
        return Path(unquote(urlparse(root).path)).absolute().as_posix()
    if scheme:
        return root.rstrip("/")
    return Path(root).expanduser().absolute().as_posix()


def current_os_user() -> str:
    """The OS user name, or ``unknown`` when it cannot be found."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


__all__ = [
    "DEFAULT_ARTIFACT_ROOT",
    "DEFAULT_TRACKING_URI",
    "RegistrySettings",
    "absolute_artifact_root",
    "absolute_sqlite_uri",
    "current_os_user",
]
