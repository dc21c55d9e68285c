"""The Docker builder: a hermetic, deterministic context, built for real and run with --network host."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from devtools.builders import (
    assert_no_host_paths,
    free_port,
    pack_predict,
    post_json,
    save_forest,
    tree_bytes,
    wait_http,
)
from devtools.cli import run_pack
from pack import __version__
from pack.builders.base import ModelSource
from pack.builders.docker import DockerContextBuilder, serve_argument
from pack.builders.engines import BuiltImage, build_image, one_line
from pack.builders.wheelhouse import requirement_name
from pack.errors import AlreadyExists, BuildError, UnsafeModel


@pytest.fixture(scope="session")
def context(rf_source, cache_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docker") / "context"
    DockerContextBuilder("debian:bookworm-slim", cache_dir).build(rf_source, out)
    return out


def test_context_holds_dockerfile_wheelhouse_and_model(context, rf_model):
    assert sorted(p.name for p in context.iterdir()) == [
        "Dockerfile",
        "constraints.txt",
        "dist",
        "model",
        "prune.py",
        "requirements.txt",
        "wheels",
    ]
    assert tree_bytes(context / "model") == tree_bytes(rf_model)
    requirements = (context / "requirements.txt").read_text().splitlines()
    assert set((rf_model / "requirements.txt").read_text().splitlines()) <= set(requirements)
    names = {requirement_name(line) for line in requirements}
    assert "uvicorn>=0.29" in requirements and "pack" not in names
    assert not names & {"sqlalchemy", "alembic", "pyarrow", "fsspec"}  # serving never imports them
    assert [p.name for p in (context / "dist").iterdir()] == [f"pack-{__version__}-py3-none-any.whl"]
    wheels = {p.name.split("-")[0].lower() for p in (context / "wheels").iterdir()}
    assert {"scikit_learn", "numpy", "scipy", "skops", "uvicorn"} <= wheels and "pack" not in wheels
    assert not wheels & {"sqlalchemy", "alembic", "pyarrow", "fsspec"}  # pack's wheel brings none of its own
    assert all(p.suffix == ".whl" for p in (context / "wheels").iterdir())


def test_dockerfile_layers_user_entrypoint_healthcheck_labels(context, rf_source):
    text = (context / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert lines[0] == "FROM debian:bookworm-slim AS deps"
    assert lines[-3] == "COPY model/ /opt/ml/model/"  # then only the ENTRYPOINT and LABEL naming the version
    assert lines[-2].startswith("ENTRYPOINT ") and lines[-1].startswith("LABEL ")
    venv_copy = lines.index("COPY --from=deps /opt/pack/venv /opt/pack/venv")
    pack_layer = lines.index("COPY --from=pack /opt/pack/app /opt/pack/app")  # pack apart, after its dependencies
    assert venv_copy < pack_layer < lines.index("COPY model/ /opt/ml/model/")
    deps_stage = text.split("AS pack", 1)[0]
    assert "dist/" not in deps_stage.split("AS deps", 1)[1]  # a new pack wheel cannot touch the dependency layer
    assert "USER 10001:10001" in lines
    assert f'ENTRYPOINT ["pack", "serve", "RandomForestClassifier:{rf_source.version}=/opt/ml/model"]' in lines
    healthcheck = next(line for line in lines if line.startswith("HEALTHCHECK"))
    assert "/v2/health/ready" in healthcheck and "curl" not in healthcheck
    assert "PACK_SERVE_HOST=0.0.0.0" in text and "PACK_SERVE_PORT=8080" in text
    assert "PACK_SERVE_ACCELERATE=false" in text
    assert "--no-index" in text  # the image build never reaches an index
    for key in ("name", "version", "source", "checksum"):
        assert f'"pack.model.{key}"={json.dumps(rf_source.labels()[f"pack.model.{key}"])}' in text


def test_accelerate_adds_onnxruntime_and_turns_it_on(context, rf_source, cache_dir, tmp_path):
    out = DockerContextBuilder("debian:bookworm-slim", cache_dir, accelerate=True).build(rf_source, tmp_path / "c")
    assert "PACK_SERVE_ACCELERATE=true" in (out / "Dockerfile").read_text()
    added = {requirement_name(line) for line in (out / "requirements.txt").read_text().splitlines()} - {
        requirement_name(line) for line in (context / "requirements.txt").read_text().splitlines()
    }
    assert added == {"onnx", "onnxruntime", "skl2onnx"}
    wheels = {p.name.split("-")[0].lower() for p in (out / "wheels").iterdir()}
    assert {"onnx", "onnxruntime", "skl2onnx"} <= wheels


def test_context_is_deterministic_and_names_no_host_path(context, rf_source, rf_model, cache_dir, tmp_path):
    again = tmp_path / "again"
    DockerContextBuilder("debian:bookworm-slim", cache_dir).build(rf_source, again)
    assert tree_bytes(again) == tree_bytes(context)
    assert_no_host_paths(context, rf_model, cache_dir, tmp_path)


def test_default_base_image_follows_the_models_python(rf_source, cache_dir, tmp_path):
    DockerContextBuilder(None, cache_dir).build(rf_source, tmp_path / "ctx")
    dockerfile = (tmp_path / "ctx" / "Dockerfile").read_text()
    assert f"FROM python:{rf_source.python_version}-slim AS deps" in dockerfile


def test_the_server_names_the_model_as_the_registry_does():
    assert serve_argument("RandomForestClassifier", "3") == "RandomForestClassifier:3=/opt/ml/model"
    assert serve_argument("my model/v2", "sha256:ab") == "my-model-v2:sha256-ab=/opt/ml/model"


def test_safe_only_is_baked_into_the_image_and_refuses_unsafe_models_at_build(
    rf_source, cache_dir, tmp_path, random_forest
):
    safe = DockerContextBuilder("debian:bookworm-slim", cache_dir, safe_only=True).write(rf_source, tmp_path / "ctx")
    dockerfile = (tmp_path / "ctx" / "Dockerfile").read_text()
    assert "\nENV PACK_SAFE_ONLY=1\nENTRYPOINT " in dockerfile
    assert safe.labels["pack.safe-only"] == "true"
    import pack

    pack.save_model(random_forest, tmp_path / "pickled", serialization_format="pickle")
    pickled = ModelSource.from_directory(tmp_path / "pickled")
    with pytest.raises(UnsafeModel, match=r"model\.pkl is a pickle file"):
        DockerContextBuilder("debian:bookworm-slim", cache_dir, safe_only=True).write(pickled, tmp_path / "no")
    assert not (tmp_path / "no").exists()
    result = run_pack(
        "build-docker", "-m", str(tmp_path / "pickled"), "--context-only", str(tmp_path / "c"), "--safe-only"
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: refused by the safe-only policy: model.pkl is a pickle file (executable content)\n"
    )
    assert not (tmp_path / "c").exists()


def test_output_must_be_new_or_empty(rf_source, cache_dir, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(AlreadyExists):
        DockerContextBuilder(None, cache_dir).build(rf_source, tmp_path / "taken")
    assert (tmp_path / "taken" / "file").read_text() == "x"


# ---- built for real -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model_image(rf_source, base_image, cache_dir, image_tags, timings, tmp_path_factory) -> BuiltImage:
    """The reference model's image, built once per session (no network in the build)."""
    out = tmp_path_factory.mktemp("image") / "context"
    started = time.monotonic()
    DockerContextBuilder(base_image, cache_dir).build(rf_source, out)
    context_seconds = time.monotonic() - started
    tag = "pack-test/randomforestclassifier:1"
    image_tags.append(tag)
    built = build_image(out, tag, network_mode="none")
    timings["model image"] = (
        f"{built.size_bytes / 1e6:.0f} MB; context {context_seconds:.1f} s + build {built.seconds:.1f} s "
        "(dependency layers possibly cached from an earlier run)"
    )
    return built


def _run(client: Any, image: str, *args: str, entrypoint: list[str] | None = None) -> str:
    output = client.containers.run(image, list(args), entrypoint=entrypoint, network_mode="none", remove=True)
    return output.decode() if isinstance(output, bytes) else str(output)


def test_image_config_user_labels_healthcheck(docker_client, model_image, rf_source):
    config = docker_client.images.get(model_image.tag).attrs["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["pack", "serve", f"RandomForestClassifier:{rf_source.version}=/opt/ml/model"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert "/v2/health/ready" in " ".join(config["Healthcheck"]["Test"])
    for key, value in rf_source.labels().items():
        assert config["Labels"][key] == value
    assert config["Labels"]["org.opencontainers.image.version"] == rf_source.version


def test_image_holds_pack_and_scores_the_model_like_pack_predict(docker_client, model_image, rf_model):
    assert _run(docker_client, model_image.tag, "--version", entrypoint=["pack"]).strip() == f"pack {__version__}"
    rows = rf_model.parent / f"{rf_model.name}-rows.json"
    expected = pack_predict(rf_model, rows)
    code = (
        "import io, pandas as pd; from pack.flavors.pyfunc import load_model; "
        "from pack.flavors.payloads import dumps_predictions; "
        f"frame = pd.read_json(io.StringIO({rows.read_text()!r}), orient='split'); "
        "print(dumps_predictions(load_model('/opt/ml/model').predict(frame)).decode(), flush=True)"
    )
    inside = json.loads(_run(docker_client, model_image.tag, "-c", code, entrypoint=["python3"]))
    assert inside == expected


def test_image_dependencies_are_pruned(docker_client, model_image):
    code = (
        "import pathlib, struct, sysconfig; site = pathlib.Path(sysconfig.get_paths()['purelib'])\n"
        "def sections(path):\n"
        "    data = path.read_bytes(); shoff = struct.unpack_from('<Q', data, 40)[0]\n"
        "    size, count, names = struct.unpack_from('<HHH', data, 58)\n"
        "    types = [struct.unpack_from('<I', data, shoff + i * size + 4)[0] for i in range(count)]\n"
        "    return types\n"
        "extensions = [p for p in site.glob('*/**/*.so') if not p.parent.name.endswith('.libs')]\n"
        "print(sum(1 for p in site.rglob('tests') if p.is_dir()), sum(1 for p in site.rglob('*.pyi')),\n"
        "      sum(1 for p in site.rglob('*.h')), sum(2 in sections(p) for p in extensions) < len(extensions) / 4,\n"
        "      sum(1 for p in site.rglob('*.pyc')) > 1000)\n"
    )
    # no test suites, stubs or headers left, most extension modules without their symbol table (SHT_SYMTAB; those
    # auditwheel patched keep it: see prune.py), and the bytecode is all there
    assert _run(docker_client, model_image.tag, "-c", code, entrypoint=["python3"]).split() == [
        "0",
        "0",
        "0",
        "True",
        "True",
    ]


def test_image_runs_as_a_user_who_cannot_write_the_model(docker_client, model_image):
    code = "import os; print(os.getuid(), os.access('/opt/ml/model/MLmodel', os.W_OK))"
    assert _run(docker_client, model_image.tag, "-c", code, entrypoint=["python3"]).split() == ["10001", "False"]


def test_new_model_version_reuses_the_dependency_layers(
    docker_client, model_image, base_image, cache_dir, image_tags, timings, tmp_path
):
    v2 = ModelSource.from_directory(save_forest(tmp_path / "RandomForestClassifier", seed=1), version="2")
    started = time.monotonic()
    DockerContextBuilder(base_image, cache_dir).build(v2, tmp_path / "context")
    context_seconds = time.monotonic() - started
    tag = "pack-test/randomforestclassifier:2"
    image_tags.append(tag)
    steps: list[str] = []
    built = build_image(tmp_path / "context", tag, progress=lambda event: steps.append(event.message))
    timings["new model version, warm dependency layers"] = (
        f"context {context_seconds:.1f} s + build {built.seconds:.1f} s"
    )
    first = docker_client.images.get(model_image.tag).attrs["RootFS"]["Layers"]
    second = docker_client.images.get(tag).attrs["RootFS"]["Layers"]
    assert second[:-1] == first[:-1] and second[-1] != first[-1]  # only the model layer differs
    assert sum("Using cache" in line for line in steps) >= 8


def test_container_serves_predictions_equal_to_pack_predict(docker_client, model_image, rf_model):
    rows = rf_model.parent / f"{rf_model.name}-rows.json"
    assert _serve_and_predict(docker_client, model_image.tag, rows) == pack_predict(rf_model, rows)


def _serve_and_predict(docker_client: Any, tag: str, rows: Path) -> Any:
    port = free_port()
    container = docker_client.containers.run(
        tag, detach=True, network_mode="host", environment={"PACK_SERVE_PORT": str(port)}
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/v2/health/ready", container)
        return post_json(f"http://127.0.0.1:{port}/invocations", {"dataframe_split": json.loads(rows.read_text())})
    finally:
        container.remove(force=True)


def test_bytecode_only_image_serves_without_library_sources(
    docker_client, model_image, rf_source, rf_model, base_image, cache_dir, image_tags, timings, tmp_path
):
    DockerContextBuilder(base_image, cache_dir, bytecode_only=True).build(rf_source, tmp_path / "context")
    assert "prune.py --bytecode-only /opt/pack/venv" in (tmp_path / "context" / "Dockerfile").read_text()
    tag = "pack-test/randomforestclassifier:1-bytecode"
    image_tags.append(tag)
    built = build_image(tmp_path / "context", tag, network_mode="none")
    timings["model image, --bytecode-only"] = f"{built.size_bytes / 1e6:.0f} MB; build {built.seconds:.1f} s"
    assert built.size_bytes < model_image.size_bytes
    code = (
        "import pathlib, sysconfig, sklearn; site = pathlib.Path(sysconfig.get_paths()['purelib']); "
        "print(sum(1 for _ in site.rglob('*.py')), sum(1 for _ in site.rglob('__pycache__')), sklearn.__file__)"
    )
    sources, caches, where = _run(docker_client, tag, "-c", code, entrypoint=["python3"]).split()
    assert (sources, caches) == ("0", "0") and where.endswith("sklearn/__init__.pyc")
    rows = rf_model.parent / f"{rf_model.name}-rows.json"
    assert _serve_and_predict(docker_client, tag, rows) == pack_predict(rf_model, rows)


def test_bytecode_only_cannot_go_with_no_prune(rf_model, tmp_path):
    result = run_pack(
        "build-docker", "-m", str(rf_model), "--context-only", str(tmp_path / "c"), "--no-prune", "--bytecode-only"
    )
    assert result.returncode == 2
    assert result.stderr == "error: --bytecode-only is a pruning rule: it cannot go with --no-prune\n"
    assert not (tmp_path / "c").exists()


def test_build_without_an_engine_is_a_one_line_error(rf_model, tmp_path):
    result = run_pack("build-docker", "-m", str(rf_model), "-n", "x:1", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no Docker engine reachable at unix:///nonexistent.sock")
    assert "--context-only" in lines[0]


def test_engine_errors_are_cut_between_words():
    text = "Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 10.0.0.1:53: " * 5
    shortened = one_line(text + "\nsecond line", 160)
    assert len(shortened) <= 160 and shortened.endswith(" ...")
    assert text.startswith(shortened.removesuffix(" ...") + " ")  # ends on a whole word


def test_a_base_image_that_cannot_be_pulled_points_to_base_image(docker_client, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM pack-test/no-such-base:1 AS deps\nFROM pack-test/no-such-base:1\n")
    with pytest.raises(BuildError) as failed:
        build_image(tmp_path, "pack-test/never-built:1", network_mode="none")
    message = str(failed.value)
    assert message.startswith("docker build failed: ") and "\n" not in message
    assert "the base image pack-test/no-such-base:1 could not be pulled? pass --base-image" in message


@pytest.mark.parametrize("host", ["unix:///nonexistent.sock", "stale"])
def test_an_unreachable_engine_leaves_no_socket_open(host, tmp_path):
    """The probe of a missing engine closes every socket it opened (pytest fails a run on a leaked one)."""
    if host == "stale":  # a socket file nobody listens on any more
        import socket

        path = tmp_path / "docker.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(path))
        host = f"unix://{path}"
    script = (
        "import gc\nfrom pack.builders.engines import docker_client\nfrom pack.errors import BuildError\n"
        "try:\n    docker_client()\nexcept BuildError as exc:\n    print(exc)\ngc.collect()\n"
    )
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", script],
        env={**os.environ, "DOCKER_HOST": host},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith(f"no Docker engine reachable at {host}")
    assert "ResourceWarning" not in result.stderr and "unclosed" not in result.stderr


def test_buildah_missing_is_a_clear_error(rf_model, tmp_path):
    no_buildah = {"PATH": str(tmp_path)}  # CI installs buildah: hide it
    result = run_pack("build-docker", "-m", str(rf_model), "-n", "x:1", "--builder", "buildah", env=no_buildah)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: buildah is not installed (apt-get install buildah); use --builder docker or write the build "
        "context with --context-only DIR and build it elsewhere"
    )


def test_model_files_in_the_image_match_the_checksum(docker_client, model_image, rf_source, tmp_path):
    container = docker_client.containers.create(model_image.tag)
    try:
        stream, _ = container.get_archive("/opt/ml/model")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            tar.extractall(tmp_path, filter="data")
    finally:
        container.remove(force=True)
    assert ModelSource.from_directory(tmp_path / "model").checksum == rf_source.checksum
