"""``pack build-docker --push``: the registry its tag names, the Docker config's credentials, pull by digest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.builders import free_port, pack_predict, post_json, wait_http
from devtools.cli import run_pack
from devtools.registry import Registry, start_registry, tags
from pack.builders.push import push_image, registry_of, split_tag
from pack.errors import BuildError

_PUSHED = re.compile(r"^pushed (?P<repository>\S+)@(?P<digest>sha256:[0-9a-f]{64})$", re.M)


def test_references():
    assert split_tag("127.0.0.1:5000/team/rf:3") == ("127.0.0.1:5000/team/rf", "3")
    assert split_tag("127.0.0.1:5000/team/rf") == ("127.0.0.1:5000/team/rf", "latest")
    assert registry_of("127.0.0.1:5000/team/rf:3") == "127.0.0.1:5000"
    assert registry_of("registry.example/rf") == "registry.example"
    assert registry_of("team/rf:3") is None  # Docker Hub


@pytest.fixture(scope="module")
def pushed(image_registry, forests, base_image, cache_dir, docker_client, image_tags) -> dict[str, Any]:
    """The reference model built and pushed with one command."""
    tag = f"{image_registry}/pack-test/rf:1"
    image_tags.append(tag)
    env = {"PACK_CACHE_DIR": str(cache_dir)}
    done = run_pack("build-docker", "-m", str(forests[0]), "-n", tag, "--base-image", base_image, "--push", env=env)
    assert done.returncode == 0, done.stderr
    found = _PUSHED.search(done.stdout)
    assert found is not None, done.stdout
    return {"tag": tag, "repository": found["repository"], "digest": found["digest"]}


def test_push_then_pull_by_digest_and_run(pushed, image_registry, forests, rows_file, docker_client, image_tags):
    assert pushed["repository"] == f"{image_registry}/pack-test/rf"
    assert "1" in tags(image_registry, "pack-test/rf")
    pinned = f"{pushed['repository']}@{pushed['digest']}"
    docker_client.images.remove(pushed["tag"])  # the engine must fetch it back from the registry
    image = docker_client.images.pull(pinned)
    image_tags.append(pinned)
    assert pinned in image.attrs["RepoDigests"]
    port = free_port()
    container = docker_client.containers.run(
        pinned, detach=True, network_mode="host", environment={"PACK_SERVE_PORT": str(port)}
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/health/ready", container)
        body = {"dataframe_split": json.loads(rows_file.read_text())}
        assert post_json(f"http://127.0.0.1:{port}/invocations", body) == pack_predict(forests[0], rows_file)
    finally:
        container.remove(force=True)


@pytest.fixture
def locked_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry that wants a user name and password (htpasswd, bcrypt)."""
    try:
        registry = start_registry(tmp_path / "registry", users={"ci": "s3cret"})
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield registry
    registry.stop()


def test_push_takes_credentials_from_the_docker_config(
    locked_registry, pushed, docker_client, image_tags, tmp_path, monkeypatch
):
    import base64

    tag = f"{locked_registry.address}/pack-test/rf:1"
    original = docker_client.images.pull(f"{pushed['repository']}@{pushed['digest']}")
    original.tag(*split_tag(tag))
    image_tags.append(tag)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "empty"))
    with pytest.raises(BuildError, match=r"^push of .*/pack-test/rf:1 failed: .*(no basic auth|unauthorized)"):
        push_image(tag)
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"ci:s3cret").decode()
    (config / "config.json").write_text(json.dumps({"auths": {locked_registry.address: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    done = push_image(tag)
    # the same image in the other registry (the engine may compress its layers anew: the manifest can differ)
    back = docker_client.images.pull(
        f"{locked_registry.address}/pack-test/rf@{done.digest}", auth_config={"username": "ci", "password": "s3cret"}
    )
    assert back.id == original.id


def test_push_errors_are_one_line(forests, tmp_path):
    nowhere = f"127.0.0.1:{free_port()}/pack-test/rf:1"
    result = run_pack(
        "build-docker", "-m", str(forests[0]), "-n", nowhere, "--context-only", str(tmp_path / "c"), "--push"
    )
    assert (result.returncode, result.stderr) == (2, "error: --push needs an image: drop --context-only\n")
