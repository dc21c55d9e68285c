"""Registry and tracking settings (``PACK_TRACKING_URI``, ``PACK_DEFAULT_ARTIFACT_ROOT``, ...).

Built once at an edge (the CLI, a ``Client``, the first fluent call) and passed down by constructor;
library code below the edge never reads the environment itself.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from pydantic import field_validator

from pack.checksums import VerifyMode
from pack.settings import PackSettings
from pack.uris import scheme_of

DEFAULT_TRACKING_URI = "sqlite:///pack.db"
DEFAULT_ARTIFACT_ROOT = "./packruns"


class RegistrySettings(PackSettings):
    """Where runs, models and their files live, and how they are checked."""

    tracking_uri: str = DEFAULT_TRACKING_URI
    """Database of experiments and runs (``sqlite:///file.db`` or ``postgresql://...``)."""

    registry_uri: str | None = None
    """Database of registered models; the tracking database when unset."""

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
