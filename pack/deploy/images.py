"""The image a deployment runs: reused by content when the engine has it, else built; pushed when asked.

An image is reused when its labels say it holds the same model files (``pack.model.checksum``) under the
same name and version (the server in it names the model by them), was made by this pack
(``pack.version``) on the same base image, and is of the kind asked for (the model baked in and
``pack serve`` as its entry point, or SageMaker's model-less ``serve`` image) with the same policies
(``pack.safe-only``, ``pack.accelerate``).
"""

from __future__ import annotations

import re
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack._version import __version__
from pack.builders.base import ModelSource, ProgressCallback, dns_name, report_to
from pack.builders.docker import default_base_image
from pack.builders.engines import build_image, docker_client
from pack.builders.push import push_image, split_tag

MODEL = "model"
SAGEMAKER = "sagemaker"
_TAG_TEXT = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class ImageRequest:
    """What image a deployment needs.

    Attributes:
        kind: ``model`` (model baked in, ``pack serve``) or ``sagemaker`` (model from /opt/ml/model).
        base_image: the base; default ``python:<the model's major.minor>-slim``.
        repository: where to push (``registry:5000/team``); None keeps the image on the engine.
        cache_dir: the wheel cache of the builders.
        safe_only: the image refuses executable model content (``PACK_SAFE_ONLY=1``); checked at build.
        accelerate: tree ensembles compiled at load (``pack serve --accelerate``; model images only).
    """

    kind: str
    base_image: str | None
    repository: str | None
    cache_dir: Path
    safe_only: bool = False
    accelerate: bool = False

    def policy_labels(self) -> dict[str, str]:
        """The labels an image made for this request carries beyond the model's (absent when off)."""
        wanted = {"pack.safe-only": self.safe_only, "pack.accelerate": self.accelerate and self.kind == MODEL}
        return {label: "true" for label, on in wanted.items() if on}


@dataclass(frozen=True)
class ImageRef:
    """The image a deployment runs: the local reference, and the pushed (pinned) one if pushed."""

    local: str
    pushed: str | None = None
    built: bool = False

    @property
    def reference(self) -> str:
        """What to run: the digest-pinned reference when pushed, else the local one."""
        return self.pushed or self.local


def image_tag(source: ModelSource, request: ImageRequest) -> str:
    """``[repository/]pack-<model>[-sagemaker]:<version>-<checksum prefix>``: names one content."""
    name = dns_name(source.name) + ("-sagemaker" if request.kind == SAGEMAKER else "")
    version = _TAG_TEXT.sub("-", source.version).strip("-.") or "model"
    policies = "".join(f"-{label.removeprefix('pack.')}" for label in sorted(request.policy_labels()))
    tag = f"{version[:100]}-{source.checksum.split(':', 1)[-1][:12]}{policies}"
    prefix = f"{request.repository.rstrip('/')}/" if request.repository else "pack/"
    return f"{prefix}{name}:{tag}"


def find_image(client: Any, source: ModelSource, request: ImageRequest) -> str | None:
    """The newest image on the engine holding this content, or None."""
    base = request.base_image or default_base_image(source.python_version)
    labels = [  # name and version too: the server inside names the model by them
        f"pack.model.name={source.name}",
        f"pack.model.version={source.version}",
        f"pack.model.checksum={source.checksum}",
        f"pack.version={__version__}",
        f"org.opencontainers.image.base.name={base}",
    ]
    policies = request.policy_labels()
    found = [
        image
        for image in client.images.list(filters={"label": labels})
        if _kind(image) == request.kind and _policies(image) == policies
    ]
    if not found:
        return None
    newest = max(found, key=lambda image: str(image.attrs.get("Created", "")))
    return str(newest.id)


def ensure_image(source: ModelSource, request: ImageRequest, progress: ProgressCallback | None = None) -> ImageRef:
    """Reuse or build the image of ``source``, tag it, and push it when ``request.repository`` is set.

    Raises:
        BuildError: no engine, a failed build or push.
    """
    report = report_to(progress)
    tag = image_tag(source, request)
    with closing(docker_client()) as client:
        found = find_image(client, source, request)
        if found is not None:
            report(f"reusing image {found[:19]} (same model files, same pack, same base)")
            client.images.get(found).tag(*split_tag(tag))
    built = found is None
    if built:
        report(f"building image {tag}")
        _build(source, request, tag, progress)
    if request.repository is None:
        return ImageRef(local=tag, built=built)
    pushed = push_image(tag, progress=progress)
    report(f"pushed {pushed.pinned}")
    return ImageRef(local=tag, pushed=pushed.pinned, built=built)


def _build(source: ModelSource, request: ImageRequest, tag: str, progress: ProgressCallback | None) -> None:
    from pack.builders.docker import DockerContextBuilder
    from pack.builders.sagemaker import SageMakerBuilder, SageMakerOptions

    with tempfile.TemporaryDirectory(prefix="pack-deploy-") as tmp:
        out = Path(tmp) / "context"
        if request.kind == SAGEMAKER:
            options = SageMakerOptions(base_image=request.base_image, safe_only=request.safe_only)
            context = SageMakerBuilder(options, request.cache_dir, progress).build(source, out) / "image"
        else:
            builder = DockerContextBuilder(
                request.base_image, request.cache_dir, progress, request.accelerate, safe_only=request.safe_only
            )
            context = builder.build(source, out)
        build_image(context, tag, network_mode="none", progress=progress)


def _policies(image: Any) -> dict[str, str]:
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    return {label: labels[label] for label in ("pack.safe-only", "pack.accelerate") if label in labels}


def _kind(image: Any) -> str:
    entrypoint = (image.attrs.get("Config") or {}).get("Entrypoint") or []
    if entrypoint[:2] == ["pack", "serve"]:
        return MODEL
    if any(str(part).endswith("sagemaker_serve.py") for part in entrypoint):
        return SAGEMAKER
    return "other"


__all__ = ["MODEL", "SAGEMAKER", "ImageRef", "ImageRequest", "ensure_image", "find_image", "image_tag"]
