"""Every builder from ``models:/RandomForestClassifier/Production``, one command each, through the CLI."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.builders import free_port, post_json, wait_http
from devtools.cli import run_pack

URI = "models:/RandomForestClassifier/Production"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, rf_model: Path, cache_dir: Path) -> dict[str, Any]:
    """A registry where version 2 of RandomForestClassifier is in Production (version 1 is not)."""
    root = tmp_path_factory.mktemp("registry")
    env = {
        "PACK_TRACKING_URI": f"sqlite:///{root}/pack.db",
        "PACK_DEFAULT_ARTIFACT_ROOT": str(root / "packruns"),
        "PACK_CACHE_DIR": str(cache_dir),
    }
    for _ in range(2):
        done = run_pack("models", "register", str(rf_model), "RandomForestClassifier", env=env)
        assert done.returncode == 0, done.stderr
    done = run_pack("models", "transition", "RandomForestClassifier", "2", "Production", env=env)
    assert done.returncode == 0, done.stderr
    rows = rf_model.parent / f"{rf_model.name}-rows.json"
    predicted = run_pack("predict", "-m", URI, "-i", str(rows), env=env)
    assert predicted.returncode == 0, predicted.stderr
    return {"env": env, "root": root, "rows": rows, "expected": json.loads(predicted.stdout)}


def test_manifests_chart_and_sagemaker_bundle(registry: dict[str, Any], tmp_path: Path) -> None:
    env = registry["env"]
    for command, out in (("build-k8s", "k8s"), ("build-chart", "chart")):
        done = run_pack(command, "-m", URI, "--image", "rf:2", "-o", str(tmp_path / out), env=env)
        assert done.returncode == 0, done.stderr
    deployment = yaml.safe_load((tmp_path / "k8s" / "deployment.yaml").read_text())
    assert deployment["metadata"]["labels"]["pack.model/version"] == "2"
    chart = yaml.safe_load((tmp_path / "chart" / "Chart.yaml").read_text())
    assert chart["appVersion"] == "2"
    done = run_pack("build-sagemaker", "-m", URI, "-o", str(tmp_path / "sm"), env=env)
    assert done.returncode == 0, done.stderr
    with tarfile.open(tmp_path / "sm" / "model.tar.gz") as archive:
        assert "MLmodel" in archive.getnames()


def test_image_from_the_registry_scores_like_pack_predict(
    registry: dict[str, Any], docker_client: Any, base_image: str, image_tags: list[str]
) -> None:
    tag = "pack-test/from-registry:2"
    image_tags.append(tag)
    env = {**registry["env"], "DOCKER_HOST": os.environ.get("DOCKER_HOST", "")}
    done = run_pack("build-docker", "-m", URI, "-n", tag, "--base-image", base_image, env=env, timeout=1800)
    assert done.returncode == 0, done.stderr
    labels = docker_client.images.get(tag).attrs["Config"]["Labels"]
    assert (labels["pack.model.name"], labels["pack.model.version"]) == ("RandomForestClassifier", "2")
    assert labels["pack.model.source"] == "models:/RandomForestClassifier/2"  # the exact version, not the stage
    port = free_port()
    container = docker_client.containers.run(
        tag, detach=True, network_mode="host", environment={"PACK_SERVE_PORT": str(port)}
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/health/ready", container)
        body = {"dataframe_split": json.loads(registry["rows"].read_text())}
        assert post_json(f"http://127.0.0.1:{port}/invocations", body) == registry["expected"]
        ready = f"http://127.0.0.1:{port}/v2/models/RandomForestClassifier/versions/2/ready"
        wait_http(ready, container, timeout=10)
    finally:
        container.remove(force=True)
