"""``docker_env`` projects: the command runs in the project's image, through the ``docker`` command line.

The project is mounted at ``/mlflow/projects/code`` (MLflow's path, also the working directory), or
baked into a new image there with ``--build-image``. The run's id and tracking URI are passed in: a
SQLite tracking database's directory is mounted at ``/pack/tracking``, a local artifact directory at
its own path, and the container shares the host's network when the tracking server is on loopback.
``path`` parameters are mounted too (at ``/pack/params/<name>`` unless they are inside the project).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from pack.errors import InvalidInput, ProjectError
from pack.projects.process import Step
from pack.projects.spec import DockerEnv

WORKDIR = PurePosixPath("/mlflow/projects/code")
TRACKING_DIR = PurePosixPath("/pack/tracking")
PARAMS_DIR = PurePosixPath("/pack/params")
_PASS_THROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "MLFLOW_S3_ENDPOINT_URL",
    "PACK_REGISTRY_URI",
)


@dataclass(frozen=True)
class Container:
    """How to run one container: the ``docker run`` options before the image, its name and variables."""

    options: tuple[str, ...]
    name: str
    environment: dict[str, str]
    """Variables for the container, set on the ``docker`` command (``ps`` shows no value)."""
    values: dict[str, str]
    """Parameter values as the container sees them (paths translated)."""


def check_copied_variables(docker_env: DockerEnv, host_env: Mapping[str, str]) -> None:
    """Check that every variable the project copies from the host is set.

    Raises:
        InvalidInput: one is not.
    """
    missing = [item for item in docker_env.environment if isinstance(item, str) and item not in host_env]
    if missing:
        verb = "it is" if len(missing) == 1 else "they are"
        raise InvalidInput(f"this project copies {', '.join(missing)} from the environment, and {verb} not set")


def docker_executable() -> str:
    """The ``docker`` command, checked to reach an engine.

    Raises:
        ProjectError: docker is not installed or no engine answers.
    """
    exe = shutil.which("docker")
    if exe is None:
        raise ProjectError("this project has a docker_env and the docker command is not installed")
    done = subprocess.run(
        [exe, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ProjectError(f"no Docker engine answers ({reason})")
    return exe


def container_for(
    run_id: str,
    docker_env: DockerEnv,
    *,
    project_dir: Path,
    mount_project: bool,
    values: Mapping[str, str],
    paths: Mapping[str, Path],
    run_env: Mapping[str, str],
    tracking_uri: str,
    artifact_uri: str,
    docker_args: Mapping[str, str | bool],
    host_env: Mapping[str, str],
) -> Container:
    """The ``docker run`` options for a run's container (``check_copied_variables`` first)."""
    name = f"pack-run-{run_id}"
    options = ["--rm", "--init", "--name", name, "--workdir", str(WORKDIR)]
    for key, value in docker_args.items():
        flag = f"-{key}" if len(key) == 1 else f"--{key}"
        options += [flag] if value is True else [flag, str(value)]
    if mount_project:
        options += ["--volume", f"{project_dir}:{WORKDIR}"]
    env = dict(run_env)
    container_uri, mounts, network_host = _tracking(tracking_uri)
    env["PACK_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"] = container_uri
    options += mounts
    if artifact_uri.startswith("/"):
        Path(artifact_uri).mkdir(parents=True, exist_ok=True)
        options += ["--volume", f"{artifact_uri}:{artifact_uri}"]
    if network_host and "network" not in docker_args and "net" not in docker_args:
        options += ["--network", "host"]
    inside = dict(values)
    for param, path in paths.items():
        if path.is_relative_to(project_dir):
            inside[param] = str(WORKDIR / path.relative_to(project_dir).as_posix())
        else:
            inside[param] = str(PARAMS_DIR / param / path.name)
            options += ["--volume", f"{path}:{inside[param]}"]
    for volume in docker_env.volumes:
        options += ["--volume", volume]
    for key in _PASS_THROUGH:
        if key in host_env:
            env.setdefault(key, host_env[key])
    for item in docker_env.environment:
        if isinstance(item, tuple):
            env[item[0]] = item[1]
        else:
            env[item] = host_env[item]
    for key in env:
        options += ["--env", key]  # the value comes from the docker command's environment, not its arguments
    return Container(tuple(options), name, env, inside)


def _tracking(uri: str) -> tuple[str, list[str], bool]:
    """The tracking URI inside the container, the mounts it needs, and whether to share the host network."""
    if uri.startswith("sqlite:////"):
        path, sep, query = uri[len("sqlite:///") :].partition("?")
        database = Path(path)
        inside = f"sqlite:///{TRACKING_DIR / database.name}{sep}{query}"
        return inside, ["--volume", f"{database.parent}:{TRACKING_DIR}"], False
    return uri, [], _is_loopback(urlparse(uri).hostname)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def image_tag(project_name: str | None, commit: str | None) -> str:
    """The tag ``--build-image`` gives: ``<project name>:<commit[:7]>`` (``latest`` outside git)."""
    repository = re.sub(r"[^a-z0-9._/-]+", "-", (project_name or "pack-project").lower()).strip("-._/")
    return f"{repository or 'pack-project'}:{commit[:7] if commit else 'latest'}"


def build_image(exe: str, base_image: str, project_dir: Path, tag: str, step: Step) -> None:
    """Build ``tag``: ``base_image`` with the project copied to the working directory (no network).

    Raises:
        ProjectError: the build failed.
    """
    with tempfile.TemporaryDirectory(prefix="pack-project-image-") as tmp:
        context = Path(tmp)
        ignore = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".venv")
        shutil.copytree(project_dir, context / "project", ignore=ignore, symlinks=True)
        (context / "Dockerfile").write_text(
            f"FROM {base_image}\nCOPY project/ {WORKDIR}/\nWORKDIR {WORKDIR}\n", encoding="utf-8"
        )
        step([exe, "build", "--network", "none", "--tag", tag, str(context)], context)


def image_id(exe: str, image: str) -> str | None:
    """The id of a local image, or None when it is not there (yet)."""
    done = subprocess.run(
        [exe, "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def remove_container(exe: str, name: str) -> None:
    """Remove a run's container if it is still there (after a stop); never raises."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run([exe, "rm", "--force", name], capture_output=True, check=False, timeout=60)


__all__ = [
    "PARAMS_DIR",
    "TRACKING_DIR",
    "WORKDIR",
    "Container",
    "build_image",
    "check_copied_variables",
    "container_for",
    "docker_executable",
    "image_id",
    "image_tag",
    "remove_container",
]
