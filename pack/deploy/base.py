"""The deployment client interface (MLflow's method names) and what a deployment reports about itself.

A target (``docker``, ``kubernetes``, ``sagemaker`` or a plugin) is a ``BaseDeploymentClient`` subclass.
Built-in clients return ``Deployment`` entities; they are also read-only mappings, so code written for
MLflow's dictionaries (``client.get_deployment("rf")["name"]``) works unchanged.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pack.builders.base import ModelSource, ProgressCallback, report_to
from pack.errors import DeployError, InvalidInput


@dataclass(frozen=True)
class DeployedModel:
    """Which model version a deployment runs.

    Attributes:
        name: the registered model's name (or the directory's name for a local path).
        version: the registered version (or the MLmodel's for a local path).
        checksum: ``sha256:<hex>`` over the model's files.
        source: the URI the deployment was made from (``models:/rf/Production``).
    """

    name: str
    version: str
    checksum: str
    source: str

    @classmethod
    def of(cls, source: ModelSource) -> DeployedModel:
        """The identity of a resolved model."""
        return cls(source.name, source.version, source.checksum, source.source_uri)

    @classmethod
    def from_labels(cls, labels: Mapping[str, str], prefix: str = "pack.model.") -> DeployedModel | None:
        """Read ``<prefix>{name,version,checksum,source}`` back (None when the name is missing)."""
        name = labels.get(f"{prefix}name")
        if not name:
            return None
        return cls(
            name=name,
            version=labels.get(f"{prefix}version", ""),
            checksum=labels.get(f"{prefix}checksum", ""),
            source=labels.get(f"{prefix}source", ""),
        )

    def labels(self, prefix: str = "pack.model.") -> dict[str, str]:
        """``<prefix>{name,version,checksum,source}`` key/values (labels, tags, annotations)."""
        return {
            f"{prefix}name": self.name,
            f"{prefix}version": self.version,
            f"{prefix}checksum": self.checksum,
            f"{prefix}source": self.source,
        }


@dataclass(frozen=True)
class Deployment(Mapping[str, Any]):
    """One deployment as its target reports it.

    Attributes:
        name: the deployment's name on its target.
        target: the target's name (``docker``, ``kubernetes``, ``sagemaker``).
        state: ``ready`` when it serves the model it should; otherwise what it is doing
            (``starting``, ``updating``, ``progressing``, ``failed``, ``stopped``...).
        model: the model version it runs (None when the target cannot tell).
        endpoint: where to send scoring requests (a URL or a target-specific address).
        details: target-specific facts (image, containers, namespace, replicas...).
    """

    name: str
    target: str
    state: str
    model: DeployedModel | None
    endpoint: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``--json``, MLflow's dictionaries)."""
        model = None
        if self.model is not None:
            model = {
                "name": self.model.name,
                "version": self.model.version,
                "checksum": self.model.checksum,
                "source": self.model.source,
            }
        return {
            "name": self.name,
            "target": self.target,
            "state": self.state,
            "model": model,
            "endpoint": self.endpoint,
            "details": dict(self.details),
        }

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


class BaseDeploymentClient(ABC):
    """A deployment target: MLflow's ``BaseDeploymentClient`` methods, same names and arguments.

    A third-party target is a module registered in the ``pack.deployments`` entry-point group that
    defines exactly one subclass of this class and a module-level ``target_help() -> str``.

    Args:
        target_uri: ``<target>`` or ``<target>:/<suffix>`` (the suffix is the target's to read,
            e.g. ``sagemaker:/us-east-1``).
        progress: receives progress messages of long operations (builds, waits).
    """

    def __init__(self, target_uri: str, progress: ProgressCallback | None = None) -> None:
        self.target_uri = target_uri
        self.progress = progress
        self._report = report_to(progress)

    @abstractmethod
    def create_deployment(
        self,
        name: str,
        model_uri: str,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Mapping[str, Any]:
        """Deploy ``model_uri`` as ``name``; fail if ``name`` is taken; return the deployment."""

    @abstractmethod
    def update_deployment(
        self,
        name: str,
        model_uri: str | None = None,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Mapping[str, Any]:
        """Move ``name`` to another model (or configuration) without a window of unavailability."""

    @abstractmethod
    def delete_deployment(
        self, name: str, config: Mapping[str, Any] | None = None, endpoint: str | None = None
    ) -> None:
        """Remove everything the deployment made on the target."""

    @abstractmethod
    def list_deployments(self, endpoint: str | None = None) -> Sequence[Mapping[str, Any]]:
        """Every deployment on the target (each a mapping with at least ``name``)."""

    @abstractmethod
    def get_deployment(self, name: str, endpoint: str | None = None) -> Mapping[str, Any]:
        """One deployment; ``NotFound`` when there is none of that name."""

    @abstractmethod
    def predict(self, deployment_name: str | None = None, inputs: Any = None, endpoint: str | None = None) -> Any:
        """Score ``inputs`` (a DataFrame, or a JSON-able scoring body) on the deployment."""

    def explain(self, deployment_name: str | None = None, df: Any = None, endpoint: str | None = None) -> Any:
        """Not offered by pack's targets (MLflow's optional method)."""
        raise DeployError(f"target {self.target_uri!r} does not explain predictions")


_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$")


def check_name(name: str) -> str:
    """A deployment name every built-in target can carry (container, DNS-1123 label, SageMaker name).

    Raises:
        InvalidInput: not 1 to 50 of a-z, 0-9 and '-', with no '-' at either end.
    """
    if not _NAME.match(name or ""):
        raise InvalidInput(f"invalid deployment name {name!r}: use a-z, 0-9 and '-' (1 to 50, no '-' at either end)")
    return name


def check_flavor(flavor: str | None) -> None:
    """Built-in targets serve ``python_function`` (every pack model has it); refuse any other flavor."""
    if flavor not in (None, "python_function"):
        raise InvalidInput(f"flavor {flavor!r} cannot be deployed here: pack's targets serve python_function")


__all__ = ["BaseDeploymentClient", "DeployedModel", "Deployment", "check_flavor", "check_name"]
