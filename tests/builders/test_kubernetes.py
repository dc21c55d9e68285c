"""Kubernetes manifests: valid against the 1.30 and newest schemas (strict), secure, deterministic."""

from __future__ import annotations

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (test extra)")

from devtools.builders import assert_no_host_paths, tree_bytes  # noqa: E402
from pack.builders.base import ModelSource  # noqa: E402
from pack.builders.kubernetes import FILES, KubernetesBuilder, KubernetesOptions  # noqa: E402
from pack.errors import InvalidInput  # noqa: E402

VERSIONS = ("1.30", kubernetes_validate.latest_version())


@pytest.fixture
def manifests(rf_model, tmp_path):
    source = ModelSource.from_directory(rf_model, name="RandomForestClassifier", version="3")
    options = KubernetesOptions(
        image="registry.example/rf:3",
        namespace="models",
        replicas=3,
        min_replicas=2,
        max_replicas=8,
        target_cpu_percent=60,
        cpu_request="250m",
        memory_request="256Mi",
        cpu_limit=None,
        memory_limit="1Gi",
    )
    out = KubernetesBuilder(options).build(source, tmp_path / "k8s")
    return {file: yaml.safe_load((out / file).read_text()) for file in FILES}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates_strictly(manifests, version):
    for document in manifests.values():
        kubernetes_validate.validate(document, version, strict=True)


def test_deployment_probes_security_and_resources(manifests):
    deployment = manifests["deployment.yaml"]
    assert deployment["metadata"]["namespace"] == "models"
    assert "replicas" not in deployment["spec"]  # the HorizontalPodAutoscaler owns the count: no fight on apply
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["env"] == [{"name": "PACK_SERVE_DRAIN_TIMEOUT", "value": "30"}]
    assert pod["terminationGracePeriodSeconds"] == 45  # the drain ends well before SIGKILL
    assert container["image"] == "registry.example/rf:3"
    assert container["ports"] == [{"containerPort": 8080, "name": "http", "protocol": "TCP"}]
    startup, ready, live = container["startupProbe"], container["readinessProbe"], container["livenessProbe"]
    assert startup["httpGet"]["path"] == ready["httpGet"]["path"] == "/v2/health/ready"
    assert live["httpGet"]["path"] == "/v2/health/live"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # a generous budget for model load
    assert container["resources"] == {"limits": {"memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "256Mi"}}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert container["volumeMounts"] == [{"mountPath": "/tmp", "name": "tmp"}]
    assert pod["volumes"] == [{"emptyDir": {}, "name": "tmp"}]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == "8080"


def test_labels_name_the_model_and_selectors_stay_stable(manifests):
    labels = manifests["deployment.yaml"]["spec"]["template"]["metadata"]["labels"]
    assert labels["pack.model/name"] == "RandomForestClassifier" and labels["pack.model/version"] == "3"
    assert labels["app.kubernetes.io/version"] == "3"
    selector = manifests["deployment.yaml"]["spec"]["selector"]["matchLabels"]
    assert selector == {
        "app.kubernetes.io/instance": "randomforestclassifier",
        "app.kubernetes.io/name": "randomforestclassifier",
    }
    assert manifests["service.yaml"]["spec"]["selector"] == selector
    assert manifests["poddisruptionbudget.yaml"]["spec"]["selector"]["matchLabels"] == selector
    assert manifests["poddisruptionbudget.yaml"]["spec"]["maxUnavailable"] == 1


def test_autoscaling_bounds_come_from_the_flags(manifests):
    hpa = manifests["horizontalpodautoscaler.yaml"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"averageUtilization": 60, "type": "Utilization"}
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "randomforestclassifier",
    }
    assert manifests["service.yaml"]["spec"]["ports"][0]["targetPort"] == "http"


def test_output_is_deterministic_and_names_no_host_path(rf_source, rf_model, tmp_path):
    builder = KubernetesBuilder(KubernetesOptions(image="rf:1"))
    builder.build(rf_source, tmp_path / "one")
    builder.build(rf_source, tmp_path / "two")
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")
    assert sorted(tree_bytes(tmp_path / "one")) == sorted(FILES)
    assert_no_host_paths(tmp_path / "one", rf_model, tmp_path)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_replicas": 1, "replicas": 2}, "--max-replicas"),
        ({"replicas": 0}, "at least 1"),
        ({"replicas": 9, "min_replicas": 2, "max_replicas": 5}, r"--replicas \(9\) must lie between"),
        ({"target_cpu_percent": 150}, "--target-cpu"),
        ({"image": " "}, "--image"),
        ({"image": "Registry.example/RF:3"}, r"'RF' is not a valid repository component \(repository names are"),
        ({"image": "rf:bad tag"}, "is not a tag"),
        ({"image": "rf@sha256:xyz"}, "is not a digest"),
        ({"cpu_request": "lots"}, r"--cpu 'lots' is not a Kubernetes quantity \(e.g. 500m"),
        ({"memory_request": "512MB"}, "--memory '512MB' is not a Kubernetes quantity"),
        ({"memory_limit": "-1Gi"}, "--memory-limit '-1Gi' is not a Kubernetes quantity"),
        ({"cpu_request": "0"}, "must be more than zero"),
        ({"cpu_request": "3", "cpu_limit": "2500m"}, "--cpu 3 is above --cpu-limit 2500m"),
        ({"memory_request": "3Gi", "memory_limit": "2048Mi"}, "--memory 3Gi is above --memory-limit 2048Mi"),
    ],
)
def test_bad_bounds_are_refused(rf_source, tmp_path, options, message):
    with pytest.raises(InvalidInput, match=message):
        KubernetesBuilder(KubernetesOptions(**{"image": "rf:1", **options})).build(rf_source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_auth_token_comes_from_a_secret_reference(rf_model, tmp_path):
    source = ModelSource.from_directory(rf_model, name="RandomForestClassifier", version="3")
    out = KubernetesBuilder(KubernetesOptions(image="rf:3", auth_secret="rf-token")).build(source, tmp_path / "k8s")
    deployment = yaml.safe_load((out / "deployment.yaml").read_text())
    for version in VERSIONS:
        kubernetes_validate.validate(deployment, version, strict=True)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [
        {"name": "PACK_SERVE_DRAIN_TIMEOUT", "value": "30"},
        {"name": "PACK_SERVE_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": "rf-token", "key": "token"}}},
    ]
    assert "token" not in yaml.safe_dump(container["readinessProbe"])  # probes stay on the open health routes
