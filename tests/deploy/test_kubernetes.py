"""The kubernetes target up to the API boundary: the official client against a recording API server.

What the client sends is checked for real (server-side apply bodies validated strictly against the
Kubernetes OpenAPI schemas; query parameters; JSON patch of a rollback), and the rollout wait meets
recorded status sequences. No pod runs: no cluster can run on these machines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (test extra)")
pytest.importorskip("kubernetes", reason="kubernetes is not installed (pip install 'pack[kubernetes]')")

from devtools.cli import run_pack  # noqa: E402
from pack.deploy.kubernetes import KubernetesDeploymentClient  # noqa: E402
from pack.deploy.rollout import rollout_status  # noqa: E402
from tests.deploy.conftest import MODEL, pack_ok, register  # noqa: E402
from tests.deploy.kube_server import ROLLOUTS, KubeAPI, _status  # noqa: E402
from tests.serving.support import ServerProcess  # noqa: E402

URI = f"models:/{MODEL}/Production"
VERSIONS = ("1.30", kubernetes_validate.latest_version())
KINDS = ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]


@pytest.fixture(scope="module")
def backend(forests: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The model served for real: the service proxy of the fake API server forwards scoring to it."""
    server = ServerProcess([f"{MODEL}:1={forests[0]}"], tmp_path_factory.mktemp("backend") / "serve.log")
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture
def kube(tmp_path: Path, backend: ServerProcess) -> Iterator[KubeAPI]:
    api = KubeAPI(tmp_path, backend.url)
    yield api
    api.stop()


@pytest.fixture
def env(registry_env: dict[str, str], kube: KubeAPI, forests: tuple[Path, Path]) -> dict[str, str]:
    """Version 1 in Production, and the kubeconfig of the fake cluster (context ``test``, namespace models)."""
    register(registry_env, forests[0])
    return {**registry_env, "KUBECONFIG": str(kube.kubeconfig)}


def create(env: dict[str, str], *config: str) -> Any:
    args = ["deployments", "create", "-t", "kubernetes", "--name", "rf", "-m", URI, "-C", "poll=0", "-v"]
    return run_pack(*args, *(item for pair in config for item in ("-C", pair)), env=env)


def get(env: dict[str, str]) -> dict[str, Any]:
    got: dict[str, Any] = json.loads(
        pack_ok("deployments", "get", "-t", "kubernetes", "--name", "rf", "--json", env=env)
    )
    return got


def test_recorded_sequences_read_as_kubectl_rollout_status_does():
    seen = [
        rollout_status(
            {"metadata": {"name": "rf", "generation": 2}, "spec": {"replicas": 2}, "status": _status(s, 2, 2)}
        )
        for s in ROLLOUTS["rolling"]
    ]
    assert [s.message for s in seen] == [
        "waiting for the controller to observe the new spec of rf",
        "1 of 2 new replicas of rf have been updated",
        "1 of 2 new replicas of rf have been updated",
        "1 old replicas of rf are pending termination",
        "1 old replicas of rf are pending termination",
        "rf rolled out: 2 of 2 replicas available",
    ]
    assert [s.state for s in seen][-1] == "ready" and not any(s.done for s in seen[:-1])


def test_create_applies_valid_objects_server_side_and_waits(env, kube):
    done = create(env, "image=registry.example/rf:1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"created rf on kubernetes: {MODEL} version 1 at http://rf.models.svc (ready)")
    applies = [r for r in kube.fake.requests if r.method == "PATCH"]
    assert [r.body["kind"] for r in applies] == KINDS
    paths = [
        "/apis/apps/v1/namespaces/models/deployments/rf",
        "/api/v1/namespaces/models/services/rf",
        "/apis/autoscaling/v2/namespaces/models/horizontalpodautoscalers/rf",
        "/apis/policy/v1/namespaces/models/poddisruptionbudgets/rf",
    ]
    assert [r.path for r in applies] == paths
    for request in applies:
        assert request.content_type == "application/apply-patch+yaml"
        assert request.query == {"fieldManager": ["pack"], "force": ["true"]}
        for version in VERSIONS:
            kubernetes_validate.validate(request.body, version, strict=True)
    deployment = applies[0].body
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "rf",
        "app.kubernetes.io/instance": "rf",
    }
    template = deployment["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "registry.example/rf:1"
    assert template["metadata"]["annotations"]["pack.model/version"] == "1"
    assert (
        template["metadata"]["annotations"]["pack.model/source"] == f"models:/{MODEL}/1"
    )  # the exact version, never a stage that moves
    assert applies[2].body["spec"]["scaleTargetRef"]["name"] == "rf"
    progress = done.stderr.splitlines()  # the recorded sequence, in order, as the wait reported it
    seen = [line for line in progress if line.endswith(("of rf", "are available", "replicas available"))]
    assert seen == [
        "waiting for the controller to observe the new spec of rf",
        "0 of 2 updated replicas of rf are available",
        "1 of 2 updated replicas of rf are available",
        "rf rolled out: 2 of 2 replicas available",
    ]
    got = get(env)
    assert (got["state"], got["model"]["version"], got["details"]["revision"]) == ("ready", "1", "1")


def k8s(env: dict[str, str], *args: str) -> str:
    """``pack deployments VERB -t kubernetes --name rf ARGS`` (the verb first), its stdout."""
    return pack_ok("deployments", args[0], "-t", "kubernetes", "--name", "rf", *args[1:], env=env)


def applied(kube: KubeAPI) -> list[dict[str, Any]]:
    return [r.body for r in kube.fake.requests if r.content_type == "application/apply-patch+yaml"]


def test_update_rolls_out_a_new_version_and_rollback_returns(env, kube, forests):
    assert create(env, "image=registry.example/rf:1", "replicas=2", "cpu=250m").returncode == 0
    register(env, forests[1])  # version 2 in Production
    kube.fake.rollout = "rolling"
    out = k8s(env, "update", "-m", URI, "-C", "image=registry.example/rf:2", "-C", "poll=0")
    assert out.startswith(f"updated rf on kubernetes: {MODEL} version 2")
    body = applied(kube)[-4]
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/rf:2"
    assert container["resources"]["requests"]["cpu"] == "250m"  # kept from create
    assert body["metadata"]["labels"]["pack.model/version"] == "2"
    got = get(env)
    assert (got["model"]["version"], got["details"]["revision"], got["state"]) == ("2", "2", "ready")

    out = k8s(env, "update", "-C", "rollback=true", "-C", "poll=0")
    assert out.startswith(f"updated rf on kubernetes: {MODEL} version 1")
    undo = next(r for r in kube.fake.requests if r.content_type == "application/json-patch+json").body
    assert (undo[0]["op"], undo[0]["path"]) == ("replace", "/spec/template")
    assert undo[0]["value"]["spec"]["containers"][0]["image"] == "registry.example/rf:1"
    assert "pod-template-hash" not in undo[0]["value"]["metadata"]["labels"]
    assert {"op": "add", "path": "/metadata/labels/pack.model~1version", "value": "1"} in undo
    got = get(env)
    assert (got["model"]["version"], got["details"]["revision"]) == ("1", "3")
    assert got["details"]["image"] == "registry.example/rf:1"


def test_list_predict_and_delete(env, kube, forests, rows_file, backend):
    assert create(env, "image=registry.example/rf:1").returncode == 0
    listed = json.loads(pack_ok("deployments", "list", "-t", "kubernetes", "--json", env=env))
    assert [(d["name"], d["model"]["version"], d["state"]) for d in listed] == [("rf", "1", "ready")]
    assert any(r.query.get("labelSelector") == ["pack.model/name"] for r in kube.fake.requests if r.method == "GET")
    answer = json.loads(
        pack_ok("deployments", "predict", "-t", "kubernetes", "--name", "rf", "-i", str(rows_file), env=env)
    )
    expected = backend.client.post("/invocations", json={"dataframe_split": json.loads(rows_file.read_text())}).json()
    assert answer == expected
    proxied = [r for r in kube.fake.requests if r.method == "POST"]
    assert [r.path for r in proxied] == ["/api/v1/namespaces/models/services/rf:http/proxy/invocations"]
    assert (
        pack_ok("deployments", "delete", "-t", "kubernetes", "--name", "rf", env=env) == "deleted rf from kubernetes\n"
    )
    assert sorted(r.path.split("/")[-2] for r in kube.fake.requests if r.method == "DELETE") == [
        "deployments",
        "horizontalpodautoscalers",
        "poddisruptionbudgets",
        "services",
    ]
    assert kube.fake.objects == {}
    gone = run_pack("deployments", "get", "-t", "kubernetes", "--name", "rf", env=env)
    assert (gone.returncode, gone.stderr) == (1, "error: no deployment 'rf' in namespace models\n")


def test_a_failed_rollout_removes_what_create_applied(env, kube):
    kube.fake.rollout = "deadline"
    failed = create(env, "image=registry.example/rf:1")
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1] == (
        'error: rollout failed: rf exceeded its progress deadline: ReplicaSet "rf-5d8f7c" has timed out progressing.'
    )
    assert kube.fake.objects == {}
    kube.fake.rollout = "stuck"
    slow = create(env, "image=registry.example/rf:1", "timeout=0.2")
    assert slow.stderr.splitlines()[-1].startswith("error: the rollout was not done within 0.2 s: 0 of 2 updated")
    assert kube.fake.objects == {}


def test_interrupted_wait_leaves_the_deployment_listed(kube, forests):
    client = KubernetesDeploymentClient(f"kubernetes:/models?kubeconfig={kube.kubeconfig}", progress=_interrupt_on_wait)
    kube.fake.rollout = "stuck"
    with pytest.raises(KeyboardInterrupt):
        client.create_deployment("rf", str(forests[0]), config={"image": "registry.example/rf:1", "poll": "0"})
    listed = KubernetesDeploymentClient(f"kubernetes:/models?kubeconfig={kube.kubeconfig}").list_deployments()
    assert [(d.name, d.state) for d in listed] == [("rf", "progressing")]


def _interrupt_on_wait(event: Any) -> None:
    if event.message.startswith("0 of 2 updated replicas"):
        raise KeyboardInterrupt


def test_bad_input_is_one_line_and_exit_2(env, kube):
    cases = [
        (["-C", "rollback=true", "-C", "image=x"], "error: rollback applies to update only"),
        ([], "error: the cluster needs an image it can pull: pass -C image=REF, or -C registry=HOST/PATH"),
        (["-C", "replicas=two"], "error: config replicas='two': expected an integer"),
        (
            ["-C", "colour=blue"],
            "error: unknown config key 'colour' for target 'kubernetes' (valid: accelerate, base_image, context,",
        ),
    ]
    for extra, expected in cases:
        result = run_pack("deployments", "create", "-t", "kubernetes", "--name", "rf", "-m", URI, *extra, env=env)
        assert (result.returncode, result.stderr.count("\n")) == (2, 1), (extra, result.stderr)
        assert result.stderr.startswith(expected), (extra, result.stderr)
    assert create(env, "image=registry.example/rf:1").returncode == 0
    taken = create(env, "image=registry.example/rf:1")
    assert (taken.returncode, taken.stderr.strip()) == (
        2,
        "error: deployment 'rf' already exists in namespace models (update it)",
    )
    nothing = run_pack("deployments", "update", "-t", "kubernetes", "--name", "rf", "-C", "rollback=true", env=env)
    assert (nothing.returncode, nothing.stderr.strip()) == (
        2,
        "error: deployment 'rf' has no earlier revision to roll back to",
    )
    no_cluster = run_pack("deployments", "list", "-t", "kubernetes", env={**env, "KUBECONFIG": "/nonexistent"})
    assert no_cluster.returncode == 1 and no_cluster.stderr.startswith("error: cannot use the kubeconfig")


def test_an_image_built_and_pushed_for_the_cluster(env, kube, image_registry, base_image, docker_client, image_tags):
    from devtools.registry import tags

    done = create(env, f"registry={image_registry}/pack-test", f"base_image={base_image}")
    assert done.returncode == 0, done.stderr
    image = applied(kube)[0]["spec"]["template"]["spec"]["containers"][0]["image"]
    repository, digest = image.split("@")
    assert repository == f"{image_registry}/pack-test/randomforestclassifier" and digest.startswith("sha256:")
    assert any(tag.startswith("1-") for tag in tags(image_registry, "pack-test/randomforestclassifier"))
    image_tags.extend(docker_client.images.get(image).tags)
