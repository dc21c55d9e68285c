"""Building a written context into an image: the Docker engine (through the Docker SDK) or buildah.

The Docker engine is the one ``DOCKER_HOST`` names, or the default socket. Builds run with
``network_mode="none"`` by default: the contexts pack writes carry every wheel they install.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack.builders.base import Progress, ProgressCallback
from pack.errors import BuildError

BUILDERS = ("docker", "buildah")
_STEP = re.compile(r"^(?:Step|STEP) (\d+)/(\d+)\s*:")
_CONTEXT_HINT = "write the build context with --context-only DIR and build it elsewhere"


@dataclass(frozen=True)
class BuiltImage:
    """An image an engine built."""

    id: str
    tag: str
    size_bytes: int | None
    seconds: float


def build_image(
    context: Path,
    tag: str,
    *,
    builder: str = "docker",
    network_mode: str = "none",
    nocache: bool = False,
    progress: ProgressCallback | None = None,
) -> BuiltImage:
    """Build the image of ``context`` (its ``Dockerfile``) and tag it ``tag``.

    Raises:
        BuildError: no engine is reachable, the builder is not installed, or the build failed.
    """
    if builder == "docker":
        return _build_with_docker(context, tag, network_mode, nocache, progress)
    if builder == "buildah":
        return _build_with_buildah(context, tag, network_mode, nocache, progress)
    raise BuildError(f"unknown builder {builder!r} (use {' or '.join(BUILDERS)})")


def check_builder(builder: str) -> None:
    """Check that ``builder`` can build here (an engine answers, or the binary is installed).

    Raises:
        BuildError: it cannot, with what to do instead.
    """
    if builder == "docker":
        docker_client().close()
    elif builder == "buildah":
        buildah_executable()
    else:
        raise BuildError(f"unknown builder {builder!r} (use {' or '.join(BUILDERS)})")


def buildah_executable() -> str:
    """The path of ``buildah``, or a ``BuildError`` saying how to get it."""
    exe = shutil.which("buildah")
    if exe is None:
        raise BuildError(f"buildah is not installed (apt-get install buildah); use --builder docker or {_CONTEXT_HINT}")
    return exe


def docker_client() -> Any:
    """A Docker SDK client for the engine of ``DOCKER_HOST`` (or the default socket), checked alive.

    Raises:
        BuildError: the SDK is missing or no engine answers.
    """
    try:
        import docker  # lazy: optional dependency
    except ImportError:
        raise BuildError("the Docker SDK is not installed: pip install 'pack[docker]'") from None
    host = os.environ.get("DOCKER_HOST") or ""
    where = host or "the default socket (/var/run/docker.sock)"
    # docker-py leaks its socket when a unix-socket connect fails: check that case ourselves first.
    unix_path = host.removeprefix("unix://") if host.startswith("unix://") else ("" if host else "/var/run/docker.sock")
    refused = _unix_socket_refuses(unix_path) if unix_path else None
    if refused:
        raise BuildError(f"no Docker engine reachable at {where} ({refused}); {_CONTEXT_HINT}")
    client = None
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:  # requests' errors are OSErrors
        if client is not None:
            client.close()
        reason = one_line(str(exc), 240) if str(exc) else type(exc).__name__
        raise BuildError(f"no Docker engine reachable at {where} ({reason}); {_CONTEXT_HINT}") from None
    return client


def _unix_socket_refuses(path: str) -> str | None:
    """Why nothing accepts connections on the unix socket ``path``, or None when something does."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        try:
            sock.connect(path)
        except OSError as exc:
            return f"{path}: {exc.strerror or type(exc).__name__}"
    return None


def _build_with_docker(
    context: Path, tag: str, network_mode: str, nocache: bool, progress: ProgressCallback | None
) -> BuiltImage:
    import docker  # lazy: optional dependency

    client = docker_client()
    started = time.monotonic()
    try:
        stream = client.api.build(
            path=str(context),
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            nocache=nocache,
            network_mode=network_mode,
            decode=True,
        )
        _follow_docker_log(stream, progress, context)
        image = client.images.get(tag)
    except docker.errors.DockerException as exc:
        raise BuildError(_build_failure("docker", str(exc), context)) from None
    finally:
        client.close()
    return BuiltImage(image.id, tag, int(image.attrs.get("Size") or 0), time.monotonic() - started)


def _follow_docker_log(stream: Iterator[dict[str, Any]], progress: ProgressCallback | None, context: Path) -> None:
    for chunk in stream:
        if "error" in chunk:
            detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            for _rest in stream:  # read the response to its end, so its connection is released, not leaked
                pass
            raise BuildError(_build_failure("docker", str(detail), context))
        text = chunk.get("stream") or chunk.get("status")
        if text and progress is not None:
            for line in str(text).splitlines():
                if line.strip():
                    progress(_progress_line(line))


def _progress_line(line: str) -> Progress:
    match = _STEP.match(line)
    if match is None:
        return Progress(line.rstrip())
    return Progress(line.rstrip(), int(match.group(1)), int(match.group(2)))


def _build_with_buildah(
    context: Path, tag: str, network_mode: str, nocache: bool, progress: ProgressCallback | None
) -> BuiltImage:
    exe = buildah_executable()
    # Docker's image format: OCI images cannot carry the HEALTHCHECK (buildah would drop it).
    command = [exe, "build", "--layers", "--format", "docker", "--network", network_mode, "-t", tag, "-f", "Dockerfile"]
    command += [*(["--no-cache"] if nocache else []), str(context)]
    started = time.monotonic()
    with subprocess.Popen(command, cwd=context, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None  # stdout=PIPE
        last = ""
        for line in proc.stdout:
            if line.strip():
                last = line.strip()
                if progress is not None:
                    progress(_progress_line(line))
        code = proc.wait()
    if code != 0:
        raise BuildError(_build_failure(f"buildah (exit {code})", last, context))
    return BuiltImage(last, tag, None, time.monotonic() - started)


_PULL_FAILURE = re.compile(
    r"pull access denied|manifest (?:for .* )?(?:not found|unknown)|no such host|dial tcp|"
    r"failed to resolve|registry|i/o timeout|unauthorized|repository does not exist",
    re.IGNORECASE,
)


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut at a word boundary (with " ...") when longer than ``limit``."""
    return textwrap.shorten(" ".join(text.split()), width=limit, placeholder=" ...")


def base_images(context: Path) -> list[str]:
    """The images the context's Dockerfile builds ``FROM`` (stage names excluded)."""
    dockerfile = context / "Dockerfile"
    if not dockerfile.is_file():
        return []
    images, stages = [], set()
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].upper() == "FROM":
            if parts[1] not in stages and parts[1] not in images:
                images.append(parts[1])
            if len(parts) >= 4 and parts[2].upper() == "AS":
                stages.add(parts[3])
    return images


def _build_failure(builder: str, detail: str, context: Path) -> str:
    """A one-line build error; a base image the engine could not pull gets the way out (--base-image)."""
    message = f"{builder} build failed: {one_line(detail, 400)}"
    bases = base_images(context)
    if bases and (_PULL_FAILURE.search(detail) or any(base in detail for base in bases)):
        message += (
            f" (the base image {', '.join(bases)} could not be pulled? pass --base-image with an image "
            "this engine has or can pull)"
        )
    return message


__all__ = [
    "BUILDERS",
    "BuiltImage",
    "base_images",
    "build_image",
    "buildah_executable",
    "check_builder",
    "docker_client",
    "one_line",
]
