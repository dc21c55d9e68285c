"""The Docker image builder: a self-contained build context, then an image built from it.

The context holds a two-stage Dockerfile, the wheelhouse, the pinned requirements and the model:

    Dockerfile          stage ``deps`` installs the wheelhouse into /opt/pack/venv; the final stage
                        copies the venv, installs pack's wheel on top, adds a non-root user,
                        HEALTHCHECK, ENTRYPOINT, then the model
    requirements.txt    the model's pinned requirements + the dependencies ``pack serve`` needs
    constraints.txt     the versions of pack's dependencies installed here
    prune.py            run in stage ``deps``: removes what a scoring server never uses (its docstring
                        lists the rules; ``prune=False`` leaves the virtualenv as pip installed it)
    dist/               pack's wheel (the same version as this pack), installed (--no-deps) in a layer of
                        its own, after the dependencies' layer
    wheels/             every wheel the image needs (Linux, the model's Python): no network at build
    model/              the model directory, copied last into /opt/ml/model

Everything in it is deterministic for the same model, base image and wheel cache.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from pack._fs import atomic_dir
from pack._version import __version__
from pack.builders.base import (
    MODEL_MOUNT,
    READY_PATH,
    SERVING_PORT,
    ModelSource,
    ProgressCallback,
    report_to,
)
from pack.builders.output import copy_tree, normalise_tree, write_file
from pack.builders.settings import BuildSettings
from pack.builders.wheelhouse import (
    TargetPlatform,
    fill_wheelhouse,
    host_constraints,
    pack_wheel,
    requirement_name,
    serving_requirements,
)
from pack.errors import InvalidInput
from pack.flavors.lookup import flavor_for_model
from pack.flavors.mlmodel import MLModel
from pack.flavors.safety import check_model
from pack.names import clean_name

IMAGE_UID = 10001
ACCELERATE_EXTRAS = ("onnx",)  # pack's extra that ``pack serve --accelerate`` compiles tree ensembles with
VENV = "/opt/pack/venv"
APP = "/opt/pack/app"  # pack's own package, a layer of its own on the venv's path
PRUNE_SCRIPT = "prune.py"


def default_base_image(python_version: str) -> str:
    """``python:<major.minor>-slim``, the default base for a model saved with that Python."""
    return f"python:{python_version}-slim"


def template(name: str) -> str:
    """The text of one file in ``pack/builders/templates``."""
    return resources.files("pack.builders").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


def healthcheck_command(path: str, port_variable: str) -> list[str]:
    """An exec-form HEALTHCHECK probing ``path`` with the image's Python (no curl needed)."""
    code = (
        "import os, urllib.request; "
        f"urllib.request.urlopen('http://127.0.0.1:%s{path}' % os.environ['{port_variable}'], timeout=2)"
    )
    return ["python3", "-c", code]


def dockerfile_labels(labels: Mapping[str, str]) -> str:
    """``key="value"`` pairs for one LABEL instruction, one per line, sorted."""
    return " \\\n      ".join(f"{json.dumps(key)}={json.dumps(value)}" for key, value in sorted(labels.items()))


@dataclass(frozen=True)
class ImageContext:
    """A written build context."""

    path: Path
    base_image: str
    wheels: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


class DockerContextBuilder:
    """Writes the build context of a model-serving image (``pack build-docker``)."""

    def __init__(
        self,
        base_image: str | None = None,
        cache_dir: Path | None = None,
        progress: ProgressCallback | None = None,
        accelerate: bool = False,
        *,
        safe_only: bool = False,
        prune: bool = True,
        bytecode_only: bool = False,
    ) -> None:
        if bytecode_only and not prune:
            raise InvalidInput("--bytecode-only is a pruning rule: it cannot go with --no-prune")
        self.base_image = base_image
        self.prune = prune
        self.bytecode_only = bytecode_only
        self.cache_dir = cache_dir or BuildSettings().cache_dir
        self.progress = progress
        self.safe_only = safe_only
        self.accelerate = accelerate

    def build(self, source: ModelSource, output: Path) -> Path:
        """Write the context for ``source`` into ``output`` (new or empty); return ``output``."""
        self.write(source, output)
        return output

    def write(self, source: ModelSource, output: Path) -> ImageContext:
        """Write the context and describe it.

        Raises:
            UnsafeModel: ``safe_only`` and the model holds executable content (the image would refuse it).
        """
        base = self.base_image or default_base_image(source.python_version)
        labels = image_labels(source, base, safe_only=self.safe_only, accelerate=self.accelerate)
        if self.safe_only:
            check_safe(source.path)
        with atomic_dir(output) as tmp:
            extras = ACCELERATE_EXTRAS if self.accelerate else ()
            wheels = write_dependencies(tmp, source, self.cache_dir, self.progress, extras)
            copy_tree(source.path, tmp / "model")
            dockerfile = render_model_dockerfile(
                base,
                labels,
                accelerate=self.accelerate,
                safe_only=self.safe_only,
                prune=self.prune,
                bytecode_only=self.bytecode_only,
            )
            write_file(tmp / "Dockerfile", dockerfile)
            normalise_tree(tmp)
        return ImageContext(output, base, tuple(wheels), labels)


def image_labels(
    source: ModelSource, base_image: str, *, safe_only: bool = False, accelerate: bool = False
) -> dict[str, str]:
    """OCI annotations plus ``pack.model.*`` (and ``pack.safe-only``, ``pack.accelerate``) for an image
    serving ``source``."""
    labels = {
        **source.labels(),
        "pack.version": __version__,
        "org.opencontainers.image.title": source.name,
        "org.opencontainers.image.version": source.version,
        "org.opencontainers.image.description": f"pack model server for {source.name} {source.version}",
        "org.opencontainers.image.base.name": base_image,
    }
    if safe_only:
        labels["pack.safe-only"] = "true"
    if accelerate:
        labels["pack.accelerate"] = "true"
    return labels


def check_safe(model_dir: Path) -> None:
    """Refuse, at build time, a model that an image built with ``--safe-only`` would refuse to load.

    Raises:
        UnsafeModel: the model holds executable content.
    """
    mlmodel = MLModel.load(model_dir)
    check_model(flavor_for_model(mlmodel), model_dir, mlmodel, safe_only=True)


def serve_argument(name: str, version: str) -> str:
    """``pack serve``'s ``NAME:VERSION=/opt/ml/model``: the server names the model as the registry does."""
    served_name = clean_name(name, max_length=128) or "model"
    served_version = clean_name(version, max_length=128) or "1"
    return f"{served_name}:{served_version}={MODEL_MOUNT}"


def policy_instruction(safe_only: bool) -> str:
    """``ENV PACK_SAFE_ONLY=1`` for an image built with ``--safe-only`` (every load in it refuses executable
    content), else nothing."""
    return "ENV PACK_SAFE_ONLY=1\n" if safe_only else ""


def prune_step(prune: bool, bytecode_only: bool = False) -> str:
    """The line of stage ``deps``'s RUN that runs prune.py over the virtualenv (nothing when not ``prune``);
    ``bytecode_only`` adds its opt-in rule (modules keep their bytecode, not their source)."""
    option = " --bytecode-only" if bytecode_only else ""
    return f" && {VENV}/bin/python /tmp/pack/{PRUNE_SCRIPT}{option} {VENV} \\\n" if prune else ""


def render_model_dockerfile(
    base_image: str,
    labels: Mapping[str, str],
    accelerate: bool = False,
    *,
    safe_only: bool = False,
    prune: bool = True,
    bytecode_only: bool = False,
) -> str:
    """The Dockerfile of a model-serving image (the model baked into /opt/ml/model); ``accelerate``
    sets ``PACK_SERVE_ACCELERATE`` (``pack serve --accelerate``), ``safe_only`` ``PACK_SAFE_ONLY=1``,
    ``prune`` runs prune.py over the dependencies (``bytecode_only``: with its opt-in rule)."""
    values = {
        "accelerate": "true" if accelerate else "false",
        "pack_version": __version__,
        "base_image": base_image,
        "venv": VENV,
        "app": APP,
        "uid": str(IMAGE_UID),
        "port": str(SERVING_PORT),
        "model_dir": MODEL_MOUNT,
        "healthcheck": json.dumps(healthcheck_command(READY_PATH, "PACK_SERVE_PORT")),
        "entrypoint": json.dumps(
            ["pack", "serve", serve_argument(labels["pack.model.name"], labels["pack.model.version"])]
        ),
        "labels": dockerfile_labels(labels),
        "policy": policy_instruction(safe_only),
        "prune_step": prune_step(prune, bytecode_only),
    }
    return render_dockerfile(["deps.Dockerfile", "model.Dockerfile"], values)


def render_dockerfile(parts: Sequence[str], values: Mapping[str, str]) -> str:
    """Concatenate Dockerfile templates and fill their ``${name}`` placeholders."""
    return "".join(Template(template(part)).substitute(values) for part in parts)


def write_dependencies(
    context: Path,
    source: ModelSource,
    cache_dir: Path,
    progress: ProgressCallback | None,
    extras: Sequence[str] = (),
) -> list[str]:
    """Write ``requirements.txt``, ``constraints.txt``, ``prune.py``, ``wheels/`` and ``dist/`` into ``context``.

    ``requirements.txt`` lists the model's requirements and the dependencies ``pack serve`` needs
    (``serving_requirements``, with those of pack's ``extras``); pack's wheel sits alone in ``dist/``
    and is installed, without its dependencies, in a layer of its own on top of theirs, so a new pack
    leaves the dependency layer cached.
    """
    report = report_to(progress)
    model_requirements = list(source.requirements)
    pinned_by_model = {name for line in model_requirements if (name := requirement_name(line))}
    target = TargetPlatform(source.python_version)
    requirements = [
        *model_requirements,
        *(line for line in serving_requirements(target, extras) if requirement_name(line) not in pinned_by_model),
    ]
    constraints = host_constraints(exclude=pinned_by_model)
    report("building pack's wheel")
    own_wheel = pack_wheel(cache_dir)
    fetch = functools.partial(fill_wheelhouse, target=target, cache=cache_dir, local_wheels=[], progress=progress)
    wheels = fetch(context / "wheels", requirements=requirements, constraints=constraints)
    dist = context / "dist"
    if own_wheel is not None:
        dist.mkdir()
        shutil.copyfile(own_wheel, dist / own_wheel.name)
    else:  # pack installed from a wheel: the same wheel from the index, alone (its dependencies are above)
        fetch(dist, requirements=[f"pack=={__version__}"], constraints=[], no_deps=True)
    write_file(context / "requirements.txt", "".join(f"{line}\n" for line in requirements))
    write_file(context / "constraints.txt", "".join(f"{line}\n" for line in constraints))
    write_file(context / PRUNE_SCRIPT, template(PRUNE_SCRIPT))
    return wheels


__all__ = [
    "ACCELERATE_EXTRAS",
    "APP",
    "IMAGE_UID",
    "PRUNE_SCRIPT",
    "VENV",
    "DockerContextBuilder",
    "ImageContext",
    "default_base_image",
    "dockerfile_labels",
    "healthcheck_command",
    "image_labels",
    "render_dockerfile",
    "check_safe",
    "policy_instruction",
    "prune_step",
    "render_model_dockerfile",
    "serve_argument",
    "template",
    "write_dependencies",
]
