"""The resources behind a SageMaker endpoint made by pack: found from the endpoint, removed in order.

An endpoint runs an endpoint config, whose variants run models, whose tarballs are in S3. pack tags each
model with the model version it holds (``pack.model.*``) and the deployment it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pack.builders.base import ModelSource
from pack.deploy.aws import aws_errors
from pack.deploy.base import DeployedModel
from pack.errors import InvalidInput, NotFound


@dataclass
class EndpointResources:
    """The resources of one endpoint revision (made here, or found), removable in the right order."""

    endpoint: str | None = None
    configs: list[str] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)

    def remove(self, aws: Any, report: Callable[[str], None]) -> None:
        """Delete the endpoint, then the configs, the models and the tarballs (what is gone already is skipped)."""
        sm, s3 = aws.client("sagemaker"), aws.client("s3")
        steps: list[tuple[str, Any]] = []
        if self.endpoint:
            steps.append((f"endpoint {self.endpoint}", lambda n=self.endpoint: sm.delete_endpoint(EndpointName=n)))
        for config in self.configs:
            steps.append(
                (f"endpoint config {config}", lambda n=config: sm.delete_endpoint_config(EndpointConfigName=n))
            )
        for model in self.models:
            steps.append((f"model {model['ModelName']}", lambda n=model["ModelName"]: sm.delete_model(ModelName=n)))
        for url in self.objects:
            parsed = urlparse(url)
            steps.append((url, lambda p=parsed: s3.delete_object(Bucket=p.netloc, Key=p.path.lstrip("/"))))
        for what, step in steps:
            report(f"deleting {what}")
            try:
                with aws_errors(f"cannot delete {what}"):
                    step()
            except NotFound:
                pass


def find_endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    try:
        with aws_errors(f"endpoint {name}"):
            described: dict[str, Any] = sm.describe_endpoint(EndpointName=name)
            return described
    except NotFound:
        return None


def found_endpoint(sm: Any, name: str) -> dict[str, Any]:
    described = find_endpoint(sm, name)
    if described is None:
        raise NotFound(f"no endpoint {name!r} on SageMaker")
    return described


def endpoint_resources(sm: Any, described: Mapping[str, Any]) -> EndpointResources:
    """The endpoint, its config, the config's models and their tarballs (what delete removes)."""
    made = EndpointResources(endpoint=str(described["EndpointName"]))
    config_name = described.get("EndpointConfigName")
    if not config_name:
        return made
    try:
        with aws_errors(f"endpoint config {config_name}"):
            config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    except NotFound:
        return made
    made.configs.append(str(config_name))
    for variant in config.get("ProductionVariants", []):
        try:
            with aws_errors(f"model {variant['ModelName']}"):
                model = sm.describe_model(ModelName=variant["ModelName"])
        except NotFound:
            continue
        made.models.append(model)
        url = (model.get("PrimaryContainer") or {}).get("ModelDataUrl")
        if url and f"/pack/{described['EndpointName']}/" in url:  # only the tarballs this target uploaded
            made.objects.append(url)
    return made


def running_model(sm: Any, model: Mapping[str, Any]) -> tuple[ModelSource, str, str]:
    """The model identity, image and tarball URL an endpoint runs (a config-only update keeps them)."""
    with aws_errors(f"model {model['ModelName']}"):
        tags = tag_map(sm.list_tags(ResourceArn=model["ModelArn"])["Tags"])
    identity = DeployedModel.from_labels(tags)
    if identity is None:
        raise InvalidInput(f"model {model['ModelName']} was not made by pack: pass a model URI")
    container = model["PrimaryContainer"]
    source = ModelSource(Path(), identity.name, identity.version, identity.source, identity.checksum, "", ())
    return source, str(container["Image"]), str(container["ModelDataUrl"])


def tags_of(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(values.items())]


def tag_map(tags: list[Mapping[str, str]]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags}


__all__ = [
    "EndpointResources",
    "endpoint_resources",
    "find_endpoint",
    "found_endpoint",
    "running_model",
    "tag_map",
    "tags_of",
]
