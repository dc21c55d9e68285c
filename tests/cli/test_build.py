"""``pack build-docker|build-k8s|build-chart|build-sagemaker`` through the real console script."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
import yaml

from devtools.builders import save_forest
from devtools.cli import run_pack


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return save_forest(tmp_path_factory.mktemp("cli-build") / "RandomForestClassifier", seed=0)


def ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_build_k8s_writes_the_four_objects(model, tmp_path):
    out = ok(
        run_pack(
            "build-k8s",
            "-m",
            str(model),
            "--image",
            "rf:1",
            "-o",
            "k8s",
            "--max-replicas",
            "9",
            "--memory-limit",
            "",
            cwd=tmp_path,
        )
    )
    assert "deployment.yaml, service.yaml, horizontalpodautoscaler.yaml, poddisruptionbudget.yaml" in out
    hpa = yaml.safe_load((tmp_path / "k8s" / "horizontalpodautoscaler.yaml").read_text())
    assert hpa["spec"]["maxReplicas"] == 9
    deployment = yaml.safe_load((tmp_path / "k8s" / "deployment.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "2"}


def test_build_chart_writes_a_chart(model, tmp_path):
    ok(
        run_pack(
            "build-chart",
            "-m",
            f"file://{model}",
            "--image",
            "reg/rf:1",
            "-o",
            "chart",
            "--chart-version",
            "1.2.3",
            cwd=tmp_path,
        )
    )
    meta = yaml.safe_load((tmp_path / "chart" / "Chart.yaml").read_text())
    assert (meta["name"], meta["version"]) == ("randomforestclassifier", "1.2.3")


def test_build_sagemaker_writes_the_bundle(model, tmp_path):
    out = ok(
        run_pack(
            "build-sagemaker",
            "-m",
            str(model),
            "-o",
            "sm",
            "--image-uri",
            "1.dkr.ecr.eu-west-1.amazonaws.com/rf:1",
            "--model-data-url",
            "s3://b/rf/model.tar.gz",
            "--instance-type",
            "ml.m5.xlarge",
            cwd=tmp_path,
        )
    )
    assert "docker build --network none" in out
    requests = json.loads((tmp_path / "sm" / "sagemaker.json").read_text())
    container = requests["CreateModel"]["PrimaryContainer"]
    assert (container["Image"], container["ModelDataUrl"]) == (
        "1.dkr.ecr.eu-west-1.amazonaws.com/rf:1",
        "s3://b/rf/model.tar.gz",
    )
    assert requests["CreateEndpointConfig"]["ProductionVariants"][0]["InstanceType"] == "ml.m5.xlarge"
    with tarfile.open(tmp_path / "sm" / "model.tar.gz") as tar:
        assert "MLmodel" in tar.getnames()


def test_build_docker_context_only_needs_no_engine(model, tmp_path):
    out = ok(
        run_pack(
            "build-docker",
            "-m",
            str(model),
            "--context-only",
            "ctx",
            "-q",
            cwd=tmp_path,
            env={"DOCKER_HOST": "unix:///nonexistent.sock"},
        )
    )
    assert "build it with: docker build --network none -t IMAGE ctx" in out
    assert (tmp_path / "ctx" / "Dockerfile").is_file() and any((tmp_path / "ctx" / "wheels").iterdir())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["build-docker"], 2, "error: --name NAME[:TAG] is required"),
        (["build-k8s", "--image", "rf", "-o", "out", "--max-replicas", "1"], 2, "error: --max-replicas (1) is below"),
        (["build-chart", "--image", "not an image", "-o", "out"], 2, "error: --image 'not an image': 'not an image'"),
        (["build-sagemaker", "-o", "out", "--instance-count", "0"], 2, "error: --instance-count must be at least 1"),
        # image references and quantities are checked before the wheelhouse step, not by the engine later
        (["build-docker", "-n", "Registry.example/RF:3"], 2, "error: --name 'Registry.example/RF:3': 'RF' is not"),
        (["build-docker", "-n", "rf@sha256:" + "0" * 64], 2, "error: --name 'rf@sha256:"),
        (["build-docker", "-n", "rf:1", "--base-image", "py thon"], 2, "error: --base-image 'py thon'"),
        (["build-sagemaker", "-o", "out", "--image-uri", "ECR/rf:1"], 2, "error: --image-uri 'ECR/rf:1'"),
        (["build-k8s", "--image", "rf:1", "-o", "out", "--cpu", "lots"], 2, "error: --cpu 'lots' is not a Kubernetes"),
        (["build-k8s", "--image", "rf:1", "-o", "out", "--memory", "2GB"], 2, "error: --memory '2GB' is not a"),
        (["build-k8s", "--image", "rf:1", "-o", "out", "--replicas", "9"], 2, "error: --max-replicas (5) is below"),
    ],
)
def test_bad_flags_are_one_line_errors(model, tmp_path, args, code, message):
    result = run_pack(args[0], "-m", str(model), *args[1:], cwd=tmp_path)
    assert result.returncode == code
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_build_log_lines_are_not_wrapped_outside_a_terminal(capsys):
    from pack.builders.base import Progress
    from pack.cli.build import _BuildDisplay

    line = "Step 3/9 : RUN pip install --no-index --find-links /wheels " + "package-name " * 20 + "end"
    with _BuildDisplay(quiet=False) as display:
        display(Progress(line))
    assert line in capsys.readouterr().err.splitlines()


def test_output_directory_must_be_new_or_empty(model, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("x")
    result = run_pack("build-k8s", "-m", str(model), "--image", "rf", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2 and "already exists and is not empty" in result.stderr
    assert (tmp_path / "out" / "keep").read_text() == "x"


def test_missing_model_is_not_found(tmp_path):
    result = run_pack("build-k8s", "-m", "nowhere", "--image", "rf", "-o", "out", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error: no model at 'nowhere'")
