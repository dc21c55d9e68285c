"""``--builder buildah``: the same context built without a daemon, pushed, pulled by digest, run on the engine."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devtools.builders import free_port, pack_predict, post_json, wait_http
from pack.builders.base import ModelSource
from pack.builders.docker import DockerContextBuilder
from pack.builders.engines import build_image
from pack.builders.push import push_image


def buildah(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["buildah", *args], capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="session")
def buildah_base(base_image: str, docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tests' base image in buildah's storage (copied once from the Docker engine with docker save)."""
    if shutil.which("buildah") is None:
        pytest.skip("buildah is not installed (.ci/services/buildah.sh installs it)")
    if buildah("inspect", "--type", "image", base_image).returncode == 0:
        return base_image
    archive = tmp_path_factory.mktemp("base") / "base.tar"
    with archive.open("wb") as out:
        for chunk in docker_client.images.get(base_image).save(named=True):
            out.write(chunk)
    pulled = buildah("pull", "-q", f"docker-archive:{archive}")
    if pulled.returncode != 0:
        pytest.skip(f"buildah cannot use its storage here: {pulled.stderr.strip()[-300:]}")
    assert buildah("tag", pulled.stdout.strip().splitlines()[-1], base_image).returncode == 0
    return base_image


@pytest.fixture(scope="module")
def context(forests: tuple[Path, Path], buildah_base: str, cache_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("buildah") / "context"
    return DockerContextBuilder(buildah_base, cache_dir).build(ModelSource.from_directory(forests[0]), out)


def _serve(docker_client: Any, image: str, rows: dict[str, Any]) -> Any:
    port = free_port()
    container = docker_client.containers.run(
        image, detach=True, network_mode="host", environment={"PACK_SERVE_PORT": str(port)}
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/health/ready", container)
        return post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_split": rows})
    finally:
        container.remove(force=True)


def test_buildah_image_answers_like_the_docker_image(
    context, image_registry, docker_client, image_tags, forests, rows_file, timings
):
    docker_tag = "pack-test/rf-docker:1"
    buildah_tag = f"{image_registry}/pack-test/rf-buildah:1"
    image_tags.extend([docker_tag, buildah_tag])
    by_docker = build_image(context, docker_tag)
    by_buildah = build_image(context, buildah_tag, builder="buildah")
    timings["buildah image (this run's layer cache)"] = f"build {by_buildah.seconds:.1f} s"
    timings["docker image of the same context"] = f"build {by_docker.seconds:.1f} s"
    pushed = push_image(buildah_tag, builder="buildah")
    pulled = docker_client.images.pull(pushed.pinned)
    image_tags.append(pushed.pinned)

    made_by_docker = docker_client.images.get(docker_tag).attrs["Config"]
    made_by_buildah = pulled.attrs["Config"]
    for key in ("Entrypoint", "User", "ExposedPorts", "Healthcheck", "Env"):
        assert made_by_buildah[key] == made_by_docker[key], key
    labels = {k: v for k, v in made_by_buildah["Labels"].items() if not k.startswith("io.buildah.")}
    assert labels == made_by_docker["Labels"]  # buildah adds only its own version
    rows = json.loads(rows_file.read_text())
    expected = pack_predict(forests[0], rows_file)
    assert _serve(docker_client, pushed.pinned, rows) == _serve(docker_client, docker_tag, rows) == expected
    assert buildah("rmi", "-f", buildah_tag).returncode == 0
