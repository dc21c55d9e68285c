"""Pushing a built image to the registry its tag names, with the credentials of the Docker config.

The Docker engine finds credentials itself (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``,
credential helpers included, through the Docker SDK). buildah is given the same file with
``--authfile``. Registries on a loopback address are spoken to over plain HTTP, as Docker does by default.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pack.builders.base import ProgressCallback, report_to
from pack.builders.engines import BUILDERS, buildah_executable, docker_client, one_line
from pack.errors import BuildError, InvalidInput

_LOOPBACK = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")


@dataclass(frozen=True)
class PushedImage:
    """An image in a registry: the tag pushed and the manifest digest it now has."""

    tag: str
    digest: str

    @property
    def pinned(self) -> str:
        """``repository@sha256:...``: the reference that can never move (pull by digest)."""
        return f"{split_tag(self.tag)[0]}@{self.digest}"


def split_tag(reference: str) -> tuple[str, str]:
    """``registry/repo:tag`` -> (``registry/repo``, ``tag``); the tag defaults to ``latest``."""
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag:  # no tag, only a registry port
        return reference, "latest"
    return name, tag


def registry_of(reference: str) -> str | None:
    """The registry host a reference names (None: Docker Hub)."""
    first, sep, _ = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def push_image(tag: str, *, builder: str = "docker", progress: ProgressCallback | None = None) -> PushedImage:
    """Push ``tag`` (built by ``builder``) to the registry it names; return its digest there.

    Raises:
        InvalidInput: ``tag`` names no repository.
        BuildError: the engine refused, the registry is unreachable or the credentials are wrong.
    """
    repository, version = split_tag(tag)
    if not repository:
        raise InvalidInput(f"cannot push {tag!r}: name the image registry/repository[:tag]")
    where = registry_of(tag) or "Docker Hub"
    report_to(progress)(f"pushing {repository}:{version} to {where}")
    if builder == "docker":
        digest = _push_with_docker(repository, version, progress)
    elif builder == "buildah":
        digest = _push_with_buildah(f"{repository}:{version}", progress)
    else:
        raise BuildError(f"unknown builder {builder!r} (use {' or '.join(BUILDERS)})")
    return PushedImage(f"{repository}:{version}", digest)


def _push_with_docker(repository: str, tag: str, progress: ProgressCallback | None) -> str:
    import docker  # lazy: optional dependency

    report = report_to(progress)
    client = docker_client()
    digest = ""
    try:
        for chunk in client.api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in chunk:
                detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                raise BuildError(f"push of {repository}:{tag} failed: {one_line(str(detail), 300)}")
            digest = (chunk.get("aux") or {}).get("Digest", digest)
            if chunk.get("status") and not chunk.get("progressDetail"):
                report(" ".join(str(chunk[key]) for key in ("id", "status") if chunk.get(key)))
    except docker.errors.DockerException as exc:
        raise BuildError(f"push of {repository}:{tag} failed: {one_line(str(exc).splitlines()[0], 300)}") from None
    finally:
        client.close()
    if not digest:
        raise BuildError(f"push of {repository}:{tag} finished without a digest from the registry")
    return str(digest)


def _push_with_buildah(reference: str, progress: ProgressCallback | None) -> str:
    command = [buildah_executable(), "push"]
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    if config.is_file():
        command += ["--authfile", str(config)]
    if _LOOPBACK.match(registry_of(reference) or ""):
        command += ["--tls-verify=false"]
    report = report_to(progress)
    with tempfile.TemporaryDirectory(prefix="pack-push-") as tmp:
        digest_file = Path(tmp) / "digest"
        command += ["--digestfile", str(digest_file), reference, f"docker://{reference}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        for line in done.stderr.splitlines():
            if line.strip():
                report(line.strip())
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise BuildError(f"buildah push of {reference} failed (exit {done.returncode}): {one_line(last, 300)}")
        return digest_file.read_text().strip()


__all__ = ["PushedImage", "push_image", "registry_of", "split_tag"]
