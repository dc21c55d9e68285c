"""The SageMaker bundle: tarball, request bodies checked against botocore's SageMaker model, and the image."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

import pytest

from devtools.builders import (
    assert_no_host_paths,
    free_port,
    pack_predict,
    post_json,
    tree_bytes,
    wait_http,
)
from pack.builders.engines import BuiltImage, build_image
from pack.builders.sagemaker import SageMakerBuilder, SageMakerOptions, sagemaker_name


@pytest.fixture(scope="session")
def bundle(rf_source, cache_dir, tmp_path_factory) -> Path:
    options = SageMakerOptions(base_image="debian:bookworm-slim", instance_type="ml.c5.xlarge", instance_count=2)
    return SageMakerBuilder(options, cache_dir).build(rf_source, tmp_path_factory.mktemp("sagemaker") / "bundle")


def test_tarball_unpacks_the_model_at_its_root(bundle, rf_model, tmp_path):
    with tarfile.open(bundle / "model.tar.gz") as tar:
        assert {m.name for m in tar.getmembers()} == {p.name for p in rf_model.iterdir()}
        tar.extractall(tmp_path / "opt-ml-model", filter="data")
    assert tree_bytes(tmp_path / "opt-ml-model") == tree_bytes(rf_model)


def test_requests_are_valid_sagemaker_api_calls(bundle, rf_source):
    requests = json.loads((bundle / "sagemaker.json").read_text())
    session = pytest.importorskip("botocore.session", reason="botocore is not installed (test extra)")
    from botocore.validate import validate_parameters

    service = session.get_session().get_service_model("sagemaker")
    assert sorted(requests) == ["CreateEndpoint", "CreateEndpointConfig", "CreateModel"]
    for operation, body in requests.items():
        validate_parameters(body, service.operation_model(operation).input_shape)  # raises when invalid
    model = requests["CreateModel"]
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://<bucket>/<prefix>/model.tar.gz"
    assert model["PrimaryContainer"]["Image"].endswith(".amazonaws.com/<repository>:<tag>")
    (variant,) = requests["CreateEndpointConfig"]["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)
    assert variant["ModelName"] == model["ModelName"] == f"RandomForestClassifier-{rf_source.version}"
    assert requests["CreateEndpoint"]["EndpointConfigName"] == requests["CreateEndpointConfig"]["EndpointConfigName"]
    assert {"Key": "pack.model.checksum", "Value": rf_source.checksum} in model["Tags"]


def test_image_context_serves_from_opt_ml_model(bundle):
    dockerfile = (bundle / "image" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python3", "/opt/pack/sagemaker_serve.py"]' in dockerfile
    assert "PACK_SAGEMAKER_MODEL=" in dockerfile  # served under the model's name and version, not "model v1"
    assert "--no-index" in dockerfile and "COPY model/" not in dockerfile
    assert "PACK_SAFE_ONLY" not in dockerfile
    assert sorted(p.name for p in (bundle / "image").iterdir()) == [
        "Dockerfile",
        "constraints.txt",
        "dist",
        "prune.py",
        "requirements.txt",
        "sagemaker_serve.py",
        "wheels",
    ]


def test_bundle_is_deterministic_and_names_no_host_path(bundle, rf_source, rf_model, cache_dir, tmp_path):
    options = SageMakerOptions(base_image="debian:bookworm-slim", instance_type="ml.c5.xlarge", instance_count=2)
    again = SageMakerBuilder(options, cache_dir).build(rf_source, tmp_path / "again")
    assert tree_bytes(again) == tree_bytes(bundle)
    assert_no_host_paths(bundle, rf_model, cache_dir, tmp_path)


def test_sagemaker_names():
    assert sagemaker_name("my_model v2.1") == "my-model-v2-1"
    assert len(sagemaker_name("x" * 80)) == 63


# ---- the image, for real ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sagemaker_image(rf_source, base_image, cache_dir, image_tags, timings, tmp_path_factory) -> BuiltImage:
    out = tmp_path_factory.mktemp("sagemaker-image") / "bundle"
    SageMakerBuilder(SageMakerOptions(base_image=base_image, safe_only=True), cache_dir).build(rf_source, out)
    tag = "pack-test/randomforestclassifier-sagemaker:1"
    image_tags.append(tag)
    built = build_image(out / "image", tag, network_mode="none")
    timings["SageMaker image"] = f"{built.size_bytes / 1e6:.0f} MB; build {built.seconds:.1f} s"
    return built


@pytest.fixture(scope="session")
def opt_ml_model(bundle, tmp_path_factory) -> Path:
    """The tarball unpacked as SageMaker does, readable by the container."""
    target = tmp_path_factory.mktemp("opt-ml") / "model"
    with tarfile.open(bundle / "model.tar.gz") as tar:
        tar.extractall(target, filter="data")
    for path in [target.parent, target, *target.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def test_image_refuses_anything_but_serve(docker_client, sagemaker_image):
    container = docker_client.containers.run(sagemaker_image.tag, ["train"], detach=True, network_mode="none")
    try:
        assert container.wait(timeout=60)["StatusCode"] == 2
        assert "only serves" in container.logs().decode()
    finally:
        container.remove(force=True)


def test_serve_answers_ping_and_invocations_then_stops_on_sigterm(
    docker_client, sagemaker_image, opt_ml_model, rf_model, rf_source
):
    rows = rf_model.parent / f"{rf_model.name}-rows.json"
    expected = pack_predict(rf_model, rows)
    port = free_port()
    container = docker_client.containers.run(
        sagemaker_image.tag,
        ["serve"],
        detach=True,
        network_mode="host",
        environment={"SAGEMAKER_BIND_TO_PORT": str(port)},
        volumes={str(opt_ml_model): {"bind": "/opt/ml/model", "mode": "ro"}},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", container)
        answer = post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_split": json.loads(rows.read_text())})
        assert answer == expected
        started = time.monotonic()
        container.stop(timeout=30)  # SIGTERM, then SIGKILL after 30 s as SageMaker does
        assert time.monotonic() - started < 30
        assert container.wait(timeout=5)["StatusCode"] == 0  # it stopped on SIGTERM, nobody killed it
        logs = container.logs().decode()
        assert f"model RandomForestClassifier version {rf_source.version} ready" in logs
    finally:
        container.remove(force=True)


def test_a_safe_only_image_refuses_a_pickled_model(docker_client, sagemaker_image, random_forest, tmp_path):
    import pack

    model_dir = tmp_path / "model"
    pack.save_model(random_forest, model_dir, serialization_format="pickle")
    for path in [tmp_path, model_dir, *model_dir.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    container = docker_client.containers.run(
        sagemaker_image.tag,
        ["serve"],
        detach=True,
        network_mode="none",
        volumes={str(model_dir): {"bind": "/opt/ml/model", "mode": "ro"}},
    )
    try:
        assert container.wait(timeout=120)["StatusCode"] == 2
        logs = container.logs().decode()
        assert "refused by the safe-only policy: model.pkl is a pickle file" in logs
    finally:
        container.remove(force=True)
