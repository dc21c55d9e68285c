"""The docker target on the real engine: create, a rolling update under load, get/list, predict, delete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import pytest

from devtools.builders import pack_predict
from devtools.cli import pack_command, run_pack
from pack.deployments import get_deploy_client
from pack.errors import AlreadyExists, DeployError
from tests.deploy.conftest import MODEL, pack_ok, register
from tests.deploy.support import ScoringLoop

URI = f"models:/{MODEL}/Production"


def deployment(name: str, env: dict[str, str]) -> dict[str, Any]:
    got: dict[str, Any] = json.loads(pack_ok("deployments", "get", "-t", "docker", "--name", name, "--json", env=env))
    return got


def leftovers(docker_client: Any, name: str) -> list[str]:
    """Containers and networks still labelled with the deployment's name."""
    label = {"label": f"pack.deployment.name={name}"}
    containers = [c.name for c in docker_client.containers.list(all=True, filters=label)]
    return containers + [n.name for n in docker_client.networks.list(filters=label)]


def test_create_update_under_load_list_get_predict_delete(
    registry_env, forests, rows_file, base_image, docker_client, docker_deployments
):
    env = registry_env
    docker_deployments.append("rf")
    register(env, forests[0])  # version 1, in Production
    out = pack_ok(
        "deployments", "create", "-t", "docker", "--name", "rf", "-m", URI, "-C", f"base_image={base_image}", env=env
    )
    assert out.startswith(f"created rf on docker: {MODEL} version 1 at http://127.0.0.1:")
    before = deployment("rf", env)
    assert (
        before["state"] == "ready"
        and before["model"]["version"] == "1"
        and before["model"]["source"] == f"models:/{MODEL}/1"
    )
    assert before["model"]["checksum"].startswith("sha256:")
    endpoint = before["endpoint"]
    rows = json.loads(rows_file.read_text())
    assert json.loads(
        pack_ok("deployments", "predict", "-t", "docker", "--name", "rf", "-i", str(rows_file), env=env)
    ) == (pack_predict(forests[0], rows_file))

    register(env, forests[1])  # version 2 becomes Production
    with ScoringLoop(endpoint, {"dataframe_split": rows}, MODEL) as loop:
        loop.wait_for(20)
        out = pack_ok("deployments", "update", "-t", "docker", "--name", "rf", "-m", URI, env=env)
        loop.wait_for(20)
    assert loop.failures == [], loop.failures[:5]
    assert loop.versions["1"] > 0 and loop.versions["2"] > 0
    assert out == f"updated rf on docker: {MODEL} version 2 at {endpoint} (ready)\n"  # same endpoint
    after = deployment("rf", env)
    assert (after["model"]["version"], after["endpoint"], after["state"]) == ("2", endpoint, "ready")
    assert after["details"]["containers"] == ["pack-rf.2"] and after["details"]["generation"] == 2
    listed = json.loads(pack_ok("deployments", "list", "-t", "docker", "--json", env=env))
    assert {(d["name"], d["model"]["version"]) for d in listed} >= {("rf", "2")}
    client = get_deploy_client("docker")
    assert client.predict("rf", rows) == pack_predict(forests[1], rows_file)

    assert pack_ok("deployments", "delete", "-t", "docker", "--name", "rf", env=env) == "deleted rf from docker\n"
    assert leftovers(docker_client, "rf") == []
    gone = run_pack("deployments", "get", "-t", "docker", "--name", "rf", env=env)
    assert gone.returncode == 1 and gone.stderr.startswith("error: no deployment 'rf' on docker")


@pytest.fixture
def deployed(registry_env, forests, base_image, docker_deployments) -> dict[str, str]:
    """``rf-small`` serving version 1 (its image reused from the engine when an earlier test built it)."""
    register(registry_env, forests[0])
    docker_deployments.append("rf-small")
    pack_ok(
        "deployments", "create", "-t", "docker", "--name", "rf-small", "-m", URI, "-C", f"base_image={base_image}",
        env=registry_env,
    )  # fmt: skip
    return registry_env


def test_create_reuses_the_image_of_the_same_model_version(deployed, forests, base_image, docker_deployments):
    docker_deployments.append("rf-again")
    args = ["deployments", "create", "-t", "docker", "--name", "rf-again", "-m", URI, "-v"]
    done = run_pack(*args, "-C", f"base_image={base_image}", "-C", "workers=2", env=deployed)
    assert done.returncode == 0, done.stderr
    assert "reusing image" in done.stderr and "Step" not in done.stderr  # nothing was built
    client = get_deploy_client("docker")
    created = client.get_deployment("rf-again")
    assert created["state"] == "ready" and created.details["settings"]["workers"] == 2
    with pytest.raises(AlreadyExists, match="'rf-again' already exists"):
        client.create_deployment("rf-again", str(forests[0]), config={"base_image": base_image})
    client.delete_deployment("rf-again")


def test_safe_only_and_accelerate_make_their_own_image(
    deployed, forests, rows_file, tmp_path, base_image, docker_client, docker_deployments
):
    docker_deployments.append("rf-strict")
    client = get_deploy_client("docker")
    pack_ok(
        "deployments", "create", "-t", "docker", "--name", "rf-strict", "-m", URI, "-C", f"base_image={base_image}",
        "-C", "safe_only=true", "-C", "accelerate=true", env=deployed,
    )  # fmt: skip
    strict = client.get_deployment("rf-strict")
    plain = client.get_deployment("rf-small")
    assert strict.details["image"] != plain.details["image"]  # the plain image of the same version is not reused
    image = docker_client.images.get(strict.details["image"])
    assert image.labels["pack.safe-only"] == "true" and image.labels["pack.accelerate"] == "true"
    assert {"PACK_SAFE_ONLY=1", "PACK_SERVE_ACCELERATE=true"} <= set(image.attrs["Config"]["Env"])
    rows = json.loads(rows_file.read_text())
    assert client.predict("rf-strict", rows) == pack_predict(forests[0], rows_file)
    client.delete_deployment("rf-strict")

    from sklearn.linear_model import LogisticRegression

    import pack

    pack.save_model(
        LogisticRegression().fit([[0.0], [1.0]], [0, 1]), tmp_path / "pickled", serialization_format="pickle"
    )
    refused = run_pack(
        "deployments", "create", "-t", "docker", "--name", "rf-pickled", "-m", str(tmp_path / "pickled"),
        "-C", f"base_image={base_image}", "-C", "safe_only=true", env=deployed,
    )  # fmt: skip
    assert refused.returncode != 0 and refused.stderr.count("\n") == 1, refused.stderr
    assert "pickle" in refused.stderr and "rf-pickled" not in {d.name for d in client.list_deployments()}


def test_a_failed_update_keeps_the_running_version(deployed, docker_client, base_image):
    client = get_deploy_client("docker")
    with pytest.raises(DeployError, match="was not ready within"):
        client.update_deployment("rf-small", config={"timeout": "0.01"})
    with pytest.raises(DeployError, match="Docker engine refused"):
        client.update_deployment("rf-small", config={"image": base_image})  # an image with no command to run
    kept = client.get_deployment("rf-small")
    assert (kept.state, kept.model.version, kept.details["containers"]) == ("ready", "1", ["pack-rf-small.1"])
    assert len(docker_client.containers.list(all=True, filters={"label": "pack.deployment.name=rf-small"})) == 2


def test_a_failed_create_removes_what_it_started(registry_env, forests, base_image, docker_client, docker_deployments):
    docker_deployments.append("rf-broken")
    result = run_pack(
        "deployments", "create", "-t", "docker", "--name", "rf-broken", "-m", str(forests[0]),
        "-C", f"image={base_image}", env=registry_env,
    )  # fmt: skip
    assert result.returncode == 1 and result.stderr.startswith("error: the Docker engine refused")
    assert len(result.stderr.strip().splitlines()) == 1
    assert leftovers(docker_client, "rf-broken") == []


def test_bad_input_is_one_line_and_exit_2(deployed, forests):
    model = str(forests[0])
    cases = [
        (["-t", "nowhere", "--name", "x", "-m", model], "unknown deployment target 'nowhere' (installed: docker, "),
        (["-t", "docker", "--name", "x", "-m", model, "-C", "colour=blue"], "unknown config key 'colour' for target"),
        (["-t", "docker", "--name", "x", "-m", model, "-C", "workers=many"], "config workers='many': expected an int"),
        (["-t", "docker", "--name", "x", "-m", model, "-C", "novalue"], "config 'novalue' is not key=value"),
        (["-t", "docker", "--name", "Bad_Name", "-m", model], "invalid deployment name 'Bad_Name'"),
        (["-t", "docker", "--name", "x", "-m", "models:/Nope/1"], "model URI 'models:/Nope/1' does not resolve"),
        (["-t", "docker", "--name", "rf-small", "-m", model], "deployment 'rf-small' already exists on docker"),
    ]
    for args, expected in cases:
        result = run_pack("deployments", "create", *args, env=deployed)
        assert (result.returncode, result.stderr.count("\n")) == (2, 1), (args, result.stderr)
        assert result.stderr.startswith(f"error: {expected}"), (args, result.stderr)
    unknown = run_pack("deployments", "create", "-t", "docker", "--name", "x", "-m", model, "-C", "colour=blue")
    valid = "accelerate, base_image, cpus, drain_timeout, host, image, memory, port, safe_only, timeout, workers"
    assert f"(valid: {valid})" in unknown.stderr
    listed = json.loads(pack_ok("deployments", "list", "-t", "docker", "--json", env=deployed))
    assert "x" not in {d["name"] for d in listed}  # nothing was created


def test_ctrl_c_while_waiting_leaves_a_listed_deployment(registry_env, forests, base_image, docker_deployments):
    docker_deployments.append("rf-interrupted")
    command = [*pack_command(), "deployments", "create", "-t", "docker", "--name", "rf-interrupted"]
    command += ["-m", str(forests[0]), "-C", f"base_image={base_image}", "--verbose"]
    with subprocess.Popen(
        command, env={**os.environ, **registry_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("waiting for pack-rf-interrupted.1"):
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        assert process.wait(timeout=120) == 130
    assert "create of 'rf-interrupted' interrupted; the deployment is left consistent" in rest
    listed = get_deploy_client("docker").get_deployment("rf-interrupted")
    assert listed.state in ("starting", "ready") and listed.model.name == "v1"
    deadline = time.monotonic() + 120
    while get_deploy_client("docker").get_deployment("rf-interrupted").state != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    get_deploy_client("docker").delete_deployment("rf-interrupted")
