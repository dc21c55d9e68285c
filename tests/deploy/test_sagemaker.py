"""The sagemaker target with boto3 against a moto server: every resource it makes, it removes.

moto does not run containers: the image's side of the contract (``serve``, /ping, /invocations on 8080)
is tested on the local engine by tests/builders/test_sagemaker.py. Scoring here goes through
``sagemaker-runtime`` to answers queued in moto.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.builders import free_port
from devtools.cli import run_pack
from pack.builders.base import ModelSource
from pack.deploy.aws import wait_for_endpoint
from pack.errors import DeployError
from tests.deploy.conftest import MODEL, pack_ok, register

URI = f"models:/{MODEL}/Production"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
REGION = "us-east-1"
BUCKET = f"pack-sagemaker-{REGION}-123456789012"  # the default bucket (moto's account)


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    """moto's server (with UpdateEndpoint added, see moto_server.py) on 127.0.0.1."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (test extra)")
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.deploy.moto_server", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                server.wait()
                pytest.skip("the moto server did not start")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def aws(moto: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def env(registry_env: dict[str, str], aws: dict[str, str], forests: tuple[Path, Path]) -> Iterator[dict[str, str]]:
    register(registry_env, forests[0])
    yield {**registry_env, **aws}
    _clean(aws)


def _clean(aws: dict[str, str]) -> None:
    """Remove what a failed test left in moto (the next test starts from nothing)."""
    import boto3

    sm = boto3.client("sagemaker", region_name=REGION)
    for endpoint in sm.list_endpoints()["Endpoints"]:
        sm.delete_endpoint(EndpointName=endpoint["EndpointName"])
    for config in sm.list_endpoint_configs()["EndpointConfigs"]:
        sm.delete_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    for model in sm.list_models()["Models"]:
        sm.delete_model(ModelName=model["ModelName"])


def resources() -> dict[str, Any]:
    """Everything in moto's SageMaker and in the default bucket."""
    import boto3

    sm = boto3.client("sagemaker", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    try:
        objects = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
    except s3.exceptions.NoSuchBucket:
        objects = []
    return {
        "endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
        "configs": sorted(c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]),
        "models": sorted(m["ModelName"] for m in sm.list_models()["Models"]),
        "objects": objects,
    }


def sagemaker(env: dict[str, str], verb: str, *args: str) -> str:
    base = ["deployments", verb, "-t", f"sagemaker:/{REGION}"]
    if verb != "list":
        base += ["--name", "rf"]
    return pack_ok(*base, *args, env=env)


def queue_answer(moto: str, body: Any) -> None:
    """The next InvokeEndpoint answer (moto's API for SageMaker runtime results)."""
    results = {"results": [{"Body": json.dumps(body), "ContentType": "application/json"}], "region": REGION}
    request = urllib.request.Request(
        f"{moto}/moto-api/static/sagemaker/endpoint-results",
        data=json.dumps(results).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_create_predict_update_delete_removes_every_resource(env, moto, forests, rows_file, tmp_path):
    import boto3

    config = ["-C", f"execution_role_arn={ROLE}", "-C", "image_uri=123456789012.dkr.ecr.us-east-1.amazonaws.com/rf:1"]
    out = sagemaker(env, "create", "-m", URI, *config, "-C", "poll=0")
    runtime = f"https://runtime.sagemaker.{REGION}.amazonaws.com/endpoints/rf/invocations"
    assert out == f"created rf on sagemaker:/{REGION}: {MODEL} version 1 at {runtime} (ready)\n"
    made = resources()
    assert made["endpoints"] == ["rf"] and len(made["models"]) == len(made["configs"]) == len(made["objects"]) == 1
    sm = boto3.client("sagemaker", region_name=REGION)
    model = sm.describe_model(ModelName=made["models"][0])
    assert model["ExecutionRoleArn"] == ROLE
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{BUCKET}/{made['objects'][0]}"
    tarball = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=made["objects"][0])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    assert (
        ModelSource.from_directory(tmp_path / "unpacked").checksum
        == json.loads(sagemaker(env, "get", "--json"))["model"]["checksum"]
    )
    got = json.loads(sagemaker(env, "get", "--json"))
    assert (got["state"], got["model"]["version"], got["model"]["source"]) == ("ready", "1", f"models:/{MODEL}/1")

    queue_answer(moto, {"predictions": [1, 0, 1]})
    assert json.loads(sagemaker(env, "predict", "-i", str(rows_file))) == {"predictions": [1, 0, 1]}

    register(env, forests[1])
    out = sagemaker(
        env, "update", "-m", URI, "-C", "poll=0", "-C", "image_uri=123456789012.dkr.ecr.us-east-1.amazonaws.com/rf:2"
    )
    assert out.startswith(f"updated rf on sagemaker:/{REGION}: {MODEL} version 2")
    after = resources()
    assert after["endpoints"] == ["rf"] and len(after["models"]) == len(after["configs"]) == 1
    assert set(after["models"]).isdisjoint(made["models"]) and set(after["objects"]).isdisjoint(made["objects"])
    assert sm.describe_endpoint(EndpointName="rf")["EndpointConfigName"] == after["configs"][0]
    listed = json.loads(sagemaker(env, "list", "--json"))
    assert [(d["name"], d["model"]["version"]) for d in listed] == [("rf", "2")]

    out = sagemaker(env, "update", "-C", "instance_count=2", "-C", "poll=0")  # the same model, more instances
    assert out.startswith(f"updated rf on sagemaker:/{REGION}: {MODEL} version 2")
    variant = sm.describe_endpoint_config(EndpointConfigName=resources()["configs"][0])["ProductionVariants"][0]
    assert variant["InitialInstanceCount"] == 2 and resources()["objects"] == after["objects"]

    assert sagemaker(env, "delete") == f"deleted rf from sagemaker:/{REGION}\n"
    assert resources() == {"endpoints": [], "configs": [], "models": [], "objects": []}


def test_a_failed_create_removes_what_it_made(env):
    image = "image_uri=123456789012.dkr.ecr.us-east-1.amazonaws.com/rf:1"
    short_role = "arn:aws:iam::1:r"  # botocore refuses it in CreateModel, after the tarball was uploaded
    failed = run_pack(
        "deployments", "create", "-t", "sagemaker", "--name", "rf", "-m", URI, "-C", f"execution_role_arn={short_role}",
        "-C", image, "-v", env=env,
    )  # fmt: skip
    assert failed.returncode == 1
    assert (
        failed.stderr.splitlines()[-1].startswith("error: cannot create model rf-")
        and "ExecutionRoleArn" in failed.stderr
    )
    assert any(line.startswith(f"deleting s3://{BUCKET}/pack/rf/") for line in failed.stderr.splitlines())
    assert resources() == {"endpoints": [], "configs": [], "models": [], "objects": []}


def test_bad_input_is_one_line_and_exit_2(env):
    image = "-C", "image_uri=123456789012.dkr.ecr.us-east-1.amazonaws.com/rf:1"
    cases = [
        ([*image], "error: SageMaker needs a role to run the model: pass -C execution_role_arn="),
        (["-C", f"execution_role_arn={ROLE}"], "error: SageMaker needs an image in ECR: pass -C image_uri=URI"),
        (["-C", "instance_type"], "error: config 'instance_type' is not key=value"),
    ]
    for extra, expected in cases:
        result = run_pack("deployments", "create", "-t", "sagemaker", "--name", "rf", "-m", URI, *extra, env=env)
        assert (result.returncode, result.stderr.count("\n")) == (2, 1), (extra, result.stderr)
        assert result.stderr.startswith(expected), result.stderr
    sagemaker(env, "create", "-m", URI, "-C", f"execution_role_arn={ROLE}", *image, "-C", "poll=0")
    taken = run_pack(
        "deployments",
        "create",
        "-t",
        "sagemaker",
        "--name",
        "rf",
        "-m",
        URI,
        *image,
        "-C",
        f"execution_role_arn={ROLE}",
        env=env,
    )
    assert (taken.returncode, taken.stderr) == (
        2,
        f"error: endpoint 'rf' already exists in {REGION} (update or delete it)\n",
    )
    sagemaker(env, "delete")
    missing = run_pack("deployments", "get", "-t", "sagemaker", "--name", "rf", env=env)
    assert (missing.returncode, missing.stderr) == (1, "error: no endpoint 'rf' on SageMaker\n")


def _sequence(*statuses: dict[str, Any]) -> Any:
    answers = iter(statuses)
    return lambda: next(answers)


def test_waiting_follows_the_endpoint_status():
    seen: list[str] = []
    done = wait_for_endpoint(
        _sequence(
            {"EndpointName": "rf", "EndpointStatus": "Creating"},
            {"EndpointName": "rf", "EndpointStatus": "Creating"},
            {"EndpointName": "rf", "EndpointStatus": "InService", "EndpointConfigName": "c"},
        ),
        timeout=60,
        poll=0,
        report=seen.append,
    )
    assert done["EndpointConfigName"] == "c" and seen == ["endpoint rf is Creating", "endpoint rf is InService"]
    failing = _sequence(
        {"EndpointName": "rf", "EndpointStatus": "Updating"},
        {
            "EndpointName": "rf",
            "EndpointStatus": "Failed",
            "FailureReason": "The primary container did not pass the ping health check.",
        },
    )
    with pytest.raises(DeployError, match="endpoint rf is Failed: The primary container did not pass the ping"):
        wait_for_endpoint(failing, timeout=60, poll=0, report=seen.append)


def test_an_image_built_and_pushed_for_sagemaker(env, image_registry, base_image, docker_client, image_tags):
    import boto3

    out = sagemaker(
        env, "create", "-m", URI, "-C", f"execution_role_arn={ROLE}", "-C", f"registry={image_registry}/pack-test",
        "-C", f"base_image={base_image}", "-C", "poll=0",
    )  # fmt: skip
    assert "version 1" in out
    sm = boto3.client("sagemaker", region_name=REGION)
    image = sm.describe_model(ModelName=resources()["models"][0])["PrimaryContainer"]["Image"]
    repository, digest = image.split("@")
    assert repository == f"{image_registry}/pack-test/randomforestclassifier-sagemaker" and digest.startswith("sha256:")
    config = docker_client.images.get(image).attrs["Config"]
    assert config["Entrypoint"] == ["python3", "/opt/pack/sagemaker_serve.py"]
    image_tags.extend(docker_client.images.get(image).tags)
    sagemaker(env, "delete")
    assert resources()["models"] == []
