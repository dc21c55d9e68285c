"""A SageMaker bundle: the model tarball, a serving image's build context, and the API requests.

model.tar.gz        the model's files at the archive root: SageMaker unpacks it into /opt/ml/model
image/              a build context (wheelhouse included, no model) whose exec-form ENTRYPOINT
                    answers ``serve`` by serving /opt/ml/model on port 8080
sagemaker.json      CreateModel / CreateEndpointConfig / CreateEndpoint request bodies, with
                    placeholders for the image URI, the tarball's S3 URL and the execution role
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack._fs import atomic_dir
from pack._version import __version__
from pack.builders.base import MODEL_MOUNT, SERVING_PORT, ModelSource, ProgressCallback
from pack.builders.docker import (
    APP,
    VENV,
    check_safe,
    default_base_image,
    dockerfile_labels,
    healthcheck_command,
    image_labels,
    policy_instruction,
    prune_step,
    render_dockerfile,
    serve_argument,
    template,
    write_dependencies,
)
from pack.builders.output import dump_json, normalise_tree, write_file, write_tar_gz
from pack.builders.settings import BuildSettings
from pack.errors import InvalidInput
from pack.names import clean_name

IMAGE_PLACEHOLDER = "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>"
MODEL_DATA_PLACEHOLDER = "s3://<bucket>/<prefix>/model.tar.gz"
ROLE_PLACEHOLDER = "arn:aws:iam::<account>:role/<sagemaker-execution-role>"
ENTRY_SCRIPT = "sagemaker_serve.py"


def sagemaker_name(text: str, max_length: int = 63) -> str:
    """``text`` as a SageMaker resource name (alphanumerics and single hyphens, 63 characters).

    Raises:
        InvalidInput: nothing usable is left of ``text``.
    """
    name = clean_name(text, allowed="A-Za-z0-9", strip="-", max_length=max_length)
    if not name:
        raise InvalidInput(f"{text!r} cannot be turned into a SageMaker name")
    return name


@dataclass(frozen=True)
class SageMakerOptions:
    """``pack build-sagemaker`` flags; the defaults of the three URIs are placeholders to replace."""

    base_image: str | None = None
    image_uri: str = IMAGE_PLACEHOLDER
    model_data_url: str = MODEL_DATA_PLACEHOLDER
    execution_role_arn: str = ROLE_PLACEHOLDER
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    startup_seconds: int = 600
    safe_only: bool = False
    prune: bool = True


def api_requests(source: ModelSource, options: SageMakerOptions) -> dict[str, Any]:
    """The request bodies of CreateModel, CreateEndpointConfig and CreateEndpoint."""
    if options.instance_count < 1:
        raise InvalidInput("--instance-count must be at least 1")
    model_name = sagemaker_name(f"{source.name}-{source.version}")
    config_name = sagemaker_name(f"{source.name}-{source.version}", 56) + "-config"
    endpoint_name = sagemaker_name(source.name)
    tags = [{"Key": key, "Value": value} for key, value in sorted(source.labels().items())]
    return {
        "CreateModel": {
            "ModelName": model_name,
            "ExecutionRoleArn": options.execution_role_arn,
            "PrimaryContainer": {
                "Image": options.image_uri,
                "ModelDataUrl": options.model_data_url,
                "Mode": "SingleModel",
                "Environment": {"SAGEMAKER_BIND_TO_PORT": str(SERVING_PORT)},
            },
            "Tags": tags,
        },
        "CreateEndpointConfig": {
            "EndpointConfigName": config_name,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "InstanceType": options.instance_type,
                    "InitialInstanceCount": options.instance_count,
                    "InitialVariantWeight": 1.0,
                    "ContainerStartupHealthCheckTimeoutInSeconds": options.startup_seconds,
                }
            ],
            "Tags": tags,
        },
        "CreateEndpoint": {"EndpointName": endpoint_name, "EndpointConfigName": config_name, "Tags": tags},
    }


def render_sagemaker_dockerfile(
    base_image: str, labels: dict[str, str], *, safe_only: bool = False, prune: bool = True
) -> str:
    """The Dockerfile of the SageMaker serving image (the model comes from /opt/ml/model at run time);
    ``prune`` runs prune.py over the dependencies."""
    values = {
        "pack_version": __version__,
        "base_image": base_image,
        "venv": VENV,
        "app": APP,
        "port": str(SERVING_PORT),
        "model_dir": MODEL_MOUNT,
        "healthcheck": json.dumps(healthcheck_command("/ping", "SAGEMAKER_BIND_TO_PORT")),
        "entrypoint": json.dumps(["python3", f"/opt/pack/{ENTRY_SCRIPT}"]),
        "labels": dockerfile_labels(labels),
        "serve_model": serve_argument(labels["pack.model.name"], labels["pack.model.version"]),
        "policy": policy_instruction(safe_only),
        "prune_step": prune_step(prune),
    }
    return render_dockerfile(["deps.Dockerfile", "sagemaker.Dockerfile"], values)


class SageMakerBuilder:
    """``pack build-sagemaker``."""

    def __init__(
        self,
        options: SageMakerOptions | None = None,
        cache_dir: Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.options = options or SageMakerOptions()
        self.cache_dir = cache_dir or BuildSettings().cache_dir
        self.progress = progress

    def build(self, source: ModelSource, output: Path) -> Path:
        """Write the bundle for ``source`` into ``output`` (new or empty); return ``output``."""
        requests = api_requests(source, self.options)
        base = self.options.base_image or default_base_image(source.python_version)
        if self.options.safe_only:
            check_safe(source.path)
        with atomic_dir(output) as tmp:
            write_tar_gz(source.path, tmp / "model.tar.gz")
            write_dependencies(tmp / "image", source, self.cache_dir, self.progress)
            write_file(tmp / "image" / ENTRY_SCRIPT, template(ENTRY_SCRIPT))
            labels = image_labels(source, base, safe_only=self.options.safe_only)
            dockerfile = render_sagemaker_dockerfile(
                base, labels, safe_only=self.options.safe_only, prune=self.options.prune
            )
            write_file(tmp / "image" / "Dockerfile", dockerfile)
            write_file(tmp / "sagemaker.json", dump_json(requests))
            normalise_tree(tmp)
        return output


__all__ = [
    "ENTRY_SCRIPT",
    "IMAGE_PLACEHOLDER",
    "MODEL_DATA_PLACEHOLDER",
    "ROLE_PLACEHOLDER",
    "SageMakerBuilder",
    "SageMakerOptions",
    "api_requests",
    "render_sagemaker_dockerfile",
    "sagemaker_name",
]
