"""The Helm chart: the base chart and a model's chart lint strictly, render and validate."""

from __future__ import annotations

import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed (test extra)")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (test extra)")

from devtools.builders import assert_no_host_paths, tree_bytes  # noqa: E402
from pack.builders.base import ModelSource  # noqa: E402
from pack.builders.helm import (  # noqa: E402
    ChartOptions,
    HelmChartBuilder,
    base_chart_dir,
    parse_image,
    replace_top_level_block,
)
from pack.errors import InvalidInput  # noqa: E402

KUBE_VERSIONS = ("1.30", kubernetes_validate.latest_version())


@pytest.fixture
def chart(rf_model, tmp_path):
    source = ModelSource.from_directory(
        rf_model, name="RandomForestClassifier", version="3", source_uri="models:/RandomForestClassifier/3"
    )
    return HelmChartBuilder(ChartOptions(image="registry.example:5000/rf:3")).build(source, tmp_path / "chart")


def render(chart_dir, values=None):
    with helm.Chart.load(str(chart_dir)) as loaded:
        rendered = loaded.render(values or {}, name="prod", namespace="models", is_install=True)
    documents = []
    for name, text in sorted(rendered.items()):
        if name.endswith(".yaml"):
            documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in documents}


def assert_valid(objects):
    for version in KUBE_VERSIONS:
        for obj in objects.values():
            kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_base_chart_and_model_chart_lint_strict(chart, version):
    for path in (base_chart_dir(), chart):
        report = helm.lint(str(path), strict=True, kube_version=f"v{version}.0")
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert report["errors"] == [] and problems == [], report


def test_chart_metadata_and_values(chart):
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    assert (meta["name"], meta["appVersion"]) == ("randomforestclassifier", "3")
    assert meta["version"] == yaml.safe_load((base_chart_dir() / "Chart.yaml").read_text())["version"]
    values = yaml.safe_load((chart / "values.yaml").read_text())
    assert values["image"] == {
        "pullPolicy": "IfNotPresent",
        "repository": "registry.example:5000/rf",
        "tag": "3",
        "digest": "",
    }
    assert values["model"]["uri"] == "models:/RandomForestClassifier/3"
    for key in (
        "replicaCount",
        "service",
        "resources",
        "autoscaling",
        "probes",
        "podAnnotations",
        "securityContext",
        "nodeSelector",
        "tolerations",
        "affinity",
        "env",
    ):
        assert key in values
    assert "# The model image" in (chart / "values.yaml").read_text()  # the base chart's comments survive


def test_rendered_chart_validates_with_probes_and_labels(chart):
    objects = render(chart)
    assert sorted(objects) == [
        "Deployment/prod-randomforestclassifier",
        "HorizontalPodAutoscaler/prod-randomforestclassifier",
        "Pod/prod-randomforestclassifier-test-connection",
        "PodDisruptionBudget/prod-randomforestclassifier",
        "Service/prod-randomforestclassifier",
        "ServiceAccount/prod-randomforestclassifier",
    ]
    assert_valid(objects)
    deployment = objects["Deployment/prod-randomforestclassifier"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "registry.example:5000/rf:3"
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert pod["metadata"]["labels"]["pack.model/version"] == "3"
    assert pod["metadata"]["annotations"]["pack.model/uri"] == "models:/RandomForestClassifier/3"
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the replica count


def test_the_pod_outlives_the_servers_drain(chart):
    deployment = render(chart)["Deployment/prod-randomforestclassifier"]
    pod = deployment["spec"]["template"]["spec"]
    assert {"name": "PACK_SERVE_DRAIN_TIMEOUT", "value": "30"} in pod["containers"][0]["env"]
    assert pod["terminationGracePeriodSeconds"] == 45
    with pytest.raises(Exception, match="terminationGracePeriodSeconds must be longer than drainTimeoutSeconds"):
        render(chart, {"drainTimeoutSeconds": 60})


def test_values_switch_objects_and_the_result_still_validates(chart):
    digest = "sha256:" + "a" * 64
    objects = render(
        chart,
        {
            "autoscaling": {"enabled": False},
            "podDisruptionBudget": {"enabled": False},
            "replicaCount": 4,
            "ingress": {"enabled": True, "className": "nginx"},
            "image": {"digest": digest},
            "env": [{"name": "PACK_LOG_LEVEL", "value": "debug"}],
            "nodeSelector": {"pool": "cpu"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
        },
    )
    kinds = sorted(key.split("/")[0] for key in objects)
    assert kinds == ["Deployment", "Ingress", "Pod", "Service", "ServiceAccount"]
    assert_valid(objects)
    deployment = objects["Deployment/prod-randomforestclassifier"]
    assert deployment["spec"]["replicas"] == 4
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"registry.example:5000/rf@{digest}"
    assert {"name": "PACK_LOG_LEVEL", "value": "debug"} in container["env"]


def test_chart_is_deterministic_and_names_no_host_path(rf_source, rf_model, tmp_path):
    builder = HelmChartBuilder(ChartOptions(image="rf"))
    builder.build(rf_source, tmp_path / "one")
    builder.build(rf_source, tmp_path / "two")
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")
    assert_no_host_paths(tmp_path / "one", rf_model, tmp_path)
    values = yaml.safe_load((tmp_path / "one" / "values.yaml").read_text())
    assert values["image"]["tag"] == ""  # defaults to the chart's appVersion, the model's version


def test_image_references():
    assert parse_image("rf") == {"repository": "rf", "tag": "", "digest": ""}
    assert parse_image("localhost:5000/team/rf:v1.2") == {
        "repository": "localhost:5000/team/rf",
        "tag": "v1.2",
        "digest": "",
    }
    assert parse_image("rf@sha256:" + "0" * 64)["digest"] == "sha256:" + "0" * 64
    for bad in ("RF:1", "rf:-x", "team//rf", "https://registry.example/rf"):
        with pytest.raises(InvalidInput):
            parse_image(bad)


def test_replacing_a_values_block_keeps_the_rest():
    text = "# head\na:\n  x: 1\n  # note\n\nb: 2\n"
    assert replace_top_level_block(text, "a", {"y": 2}) == "# head\na:\n  y: 2\n\nb: 2\n"


def test_the_auth_token_comes_from_an_existing_secret(chart):
    assert "PACK_SERVE_AUTH_TOKEN" not in str(render(chart))
    objects = render(chart, {"auth": {"existingSecret": "rf-token"}})
    assert_valid(objects)
    (container,) = objects["Deployment/prod-randomforestclassifier"]["spec"]["template"]["spec"]["containers"]
    assert {"name": "PACK_SERVE_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": "rf-token", "key": "token"}}} in (
        container["env"]
    )
