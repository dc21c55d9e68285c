"""What every builder starts from: a ``ModelSource`` (a local model directory and who it is).

A builder turns a ``ModelSource`` plus its own options into files under an output directory (and, for
the Docker builder, an image). Builders never resolve URIs and never import serving: the CLI resolves
the model URI to a directory and fills the ``ModelSource``; images run ``pack serve`` by command line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from pack._fs import checksum_tree
from pack.errors import InvalidInput
from pack.flavors.environment import PYTHON_ENV_FILE, read_requirements
from pack.flavors.mlmodel import MLModel
from pack.names import clean_name
from pack.uris import ResolvedModel

# Where every image built here keeps the model (SageMaker's path, so one layout serves both).
MODEL_MOUNT = "/opt/ml/model"
SERVING_PORT = 8080
READY_PATH = "/v2/health/ready"
LIVE_PATH = "/v2/health/live"
METRICS_PATH = "/metrics"


@dataclass(frozen=True)
class Progress:
    """One line of build progress; ``step``/``total`` are set when a build step starts."""

    message: str
    step: int | None = None
    total: int | None = None


ProgressCallback = Callable[[Progress], None]
"""Receives build progress as it happens (the library never prints)."""


def report_to(callback: ProgressCallback | None) -> Callable[[str], None]:
    """A ``message -> None`` function that forwards to ``callback`` (or drops the message)."""
    if callback is None:
        return lambda _message: None
    return lambda message: callback(Progress(message))


@dataclass(frozen=True)
class ModelSource:
    """A model directory on this machine and its identity.

    Attributes:
        path: the local model directory (holds ``MLmodel``); never written into any output.
        name: the model's name (registered name, or the directory's name for a local path).
        version: the model's version (registry version, or the MLmodel's for a local path).
        source_uri: what the user asked for (``models:/...``), or ``name`` for a local path, so
            that no host path leaks into images or manifests.
        checksum: ``sha256:<hex>`` over the model's files (names and contents).
        python_version: ``major.minor`` of the Python the model was saved with.
        requirements: the model's pinned requirement lines.
    """

    path: Path
    name: str
    version: str
    source_uri: str
    checksum: str
    python_version: str
    requirements: tuple[str, ...]

    @classmethod
    def from_resolved(cls, resolved: ResolvedModel) -> ModelSource:
        """Describe a resolved model URI: a registered version keeps its name, number and URI.

        Raises:
            NotFound: the directory has no MLmodel.
            InvalidModel: the MLmodel is malformed.
        """
        if resolved.name is None or resolved.version is None:
            return cls.from_directory(resolved.path)
        return cls.from_directory(
            resolved.path, name=resolved.name, version=str(resolved.version), source_uri=resolved.exact_uri
        )

    @classmethod
    def from_directory(
        cls,
        path: Path,
        *,
        name: str | None = None,
        version: str | None = None,
        source_uri: str | None = None,
    ) -> ModelSource:
        """Describe a model directory; ``name``/``version`` default to what the directory says.

        Defaults: ``name`` is MLmodel ``metadata.name`` or the directory's name; ``version`` is
        MLmodel ``metadata.version`` or the first 12 hex digits of ``model_uuid`` (or of the checksum).

        Raises:
            NotFound: the directory has no MLmodel.
            InvalidModel: the MLmodel is malformed.
        """
        path = Path(path)
        mlmodel = MLModel.load(path)
        checksum = tree_checksum(path)
        meta = dict(mlmodel.metadata or {})
        name = name or str(meta.get("name") or path.resolve().name)
        default_version = (mlmodel.model_uuid or checksum.split(":", 1)[1])[:12]
        version = version or str(meta.get("version") or default_version)
        return cls(
            path=path,
            name=name,
            version=version,
            source_uri=source_uri or name,
            checksum=checksum,
            python_version=_python_version(path, mlmodel),
            requirements=tuple(read_requirements(path)),
        )

    def labels(self) -> dict[str, str]:
        """The identity as ``pack.model.*`` key/values (image labels, annotations)."""
        return {
            "pack.model.name": self.name,
            "pack.model.version": self.version,
            "pack.model.source": self.source_uri,
            "pack.model.checksum": self.checksum,
        }


class Builder(Protocol):
    """The contract of a builder: one model in, files under ``output`` out.

    Implementations write atomically (``output`` must be new or empty), write the same bytes for the
    same inputs, name no path of the building machine, and raise ``BuildError`` when they cannot.
    """

    def build(self, source: ModelSource, output: Path) -> Path:
        """Write the artefacts for ``source`` into ``output``; return ``output``."""
        ...


def tree_checksum(root: Path) -> str:
    """``sha256:<hex>`` over the sorted ``relative path`` + file digest pairs of a directory."""
    digest = hashlib.sha256()
    for rel, file_digest in sorted(checksum_tree(root).items()):
        digest.update(f"{rel}\0{file_digest}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def _python_version(path: Path, mlmodel: MLModel) -> str:
    version: Any = (mlmodel.pyfunc_conf or {}).get("python_version")
    env_file = path / PYTHON_ENV_FILE
    if not version and env_file.is_file():
        env = yaml.safe_load(env_file.read_text(encoding="utf-8")) or {}
        version = env.get("python") if isinstance(env, dict) else None
    if not version:
        import platform

        version = platform.python_version()
    match = re.match(r"^(\d+)\.(\d+)", str(version))
    if match is None:
        raise InvalidInput(f"the model's python_version {version!r} is not a Python version")
    return f"{match.group(1)}.{match.group(2)}"


def dns_name(text: str, max_length: int = 63) -> str:
    """``text`` as a DNS-1123 label (Kubernetes object names, chart names).

    Raises:
        InvalidInput: nothing usable is left of ``text``.
    """
    name = clean_name(text, allowed="a-z0-9-", strip="-", max_length=max_length, lower=True)
    if not name or not name[0].isalpha():
        name = clean_name(f"m-{name}", allowed="a-z0-9-", strip="-", max_length=max_length)
    if name == "m":
        raise InvalidInput(f"{text!r} cannot be turned into a Kubernetes name")
    return name


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value (63 characters, alphanumerics at both ends)."""
    return clean_name(text, replacement="_", max_length=63)


__all__ = [
    "LIVE_PATH",
    "METRICS_PATH",
    "MODEL_MOUNT",
    "READY_PATH",
    "SERVING_PORT",
    "Builder",
    "ModelSource",
    "Progress",
    "ProgressCallback",
    "dns_name",
    "label_value",
    "report_to",
    "tree_checksum",
]
