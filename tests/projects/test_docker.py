"""docker_env projects on a real Docker engine: the command runs in the image and records into the host's run."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from devtools import REPO
from devtools.cli import pack_command
from pack.projects.docker import container_for
from pack.projects.spec import DockerEnv
from tests.projects.conftest import commit_all, pack_run

EXTRA_ENTRY_POINTS = """\
  show:
    parameters: {v: str}
    command: "python show.py --v {v} && touch shell-ran"
  touch:
    command: "touch written-in-container"
  count:
    parameters: {table: path}
    command: "python count.py {table}"
  sleep:
    command: "python -c 'import time; time.sleep(600)'"
"""


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="session")
def runtime_image(docker_client: Any, base_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The base image plus a virtualenv with pack's dependencies and scikit-learn (pack itself is mounted)."""
    if shutil.which("docker") is None:
        pytest.skip("the docker command is not installed (.ci/services/docker.sh installs it)")
    base = base_image
    from pack.builders.wheelhouse import TargetPlatform, fill_wheelhouse, host_constraints, pack_requirements

    python = docker("run", "--rm", base, "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    target = TargetPlatform(python)
    requirements = [*pack_requirements(target), *(f"{d}=={metadata.version(d)}" for d in ("scikit-learn", "skops"))]
    constraints = host_constraints(exclude={"scikit-learn", "skops"})
    key = hashlib.sha256("\n".join([base, python, *requirements, *constraints]).encode()).hexdigest()[:12]
    tag = f"pack-test/project-runtime:{key}"
    if docker("image", "ls", "-q", tag):
        return tag
    context = tmp_path_factory.mktemp("runtime-image")
    cache = Path(os.environ.get("PACK_CI_CACHE") or Path.home() / ".cache" / "pack-ci") / "pack"
    fill_wheelhouse(
        context / "wheels",
        requirements=requirements,
        constraints=constraints,
        target=target,
        cache=cache,
        local_wheels=[],
    )
    (context / "wheels" / "requirements.txt").write_text("".join(f"{line}\n" for line in requirements))
    (context / "Dockerfile").write_text(
        f"FROM {base}\nCOPY wheels /wheels\n"
        "RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --find-links /wheels"
        " -r /wheels/requirements.txt && rm -rf /wheels\n"
        "ENV PATH=/opt/venv/bin:$PATH\n"
    )
    docker("build", "--network", "none", "-q", "-t", tag, str(context))
    return tag


@pytest.fixture
def docker_project(seed_project: Path, runtime_image: str) -> Iterator[Path]:
    """The seed project with a docker_env (pack's source mounted as a volume, a variable set and one copied)."""
    mlproject = (
        (seed_project / "MLproject")
        .read_text()
        .replace(
            "conda_env: conda.yaml\n",
            f"docker_env:\n  image: {runtime_image}\n  volumes: ['{REPO}:/opt/pack-src:ro']\n"
            "  environment: [[PYTHONPATH, /opt/pack-src], PACK_TEST_COPIED]\n",
        )
    )
    (seed_project / "MLproject").write_text(mlproject + EXTRA_ENTRY_POINTS)
    (seed_project / "show.py").write_text(
        "import json, os, sys\nprint('ARGS=' + json.dumps(sys.argv[1:]), os.environ['PACK_TEST_COPIED'])\n"
    )
    (seed_project / "count.py").write_text("import sys\nprint('LINES', len(open(sys.argv[1]).read().splitlines()))\n")
    commit_all(seed_project, "docker_env")
    yield seed_project
    leftovers = docker("ps", "-aq", "--filter", "name=pack-run-")
    assert not leftovers, "a run left its container behind"


ENV = {"PACK_TEST_COPIED": "copied-from-host"}


def test_the_seed_project_runs_in_its_docker_env_and_records_into_the_host_run(docker_project, store):
    done = pack_run(".", "-P", "epochs=3", cwd=docker_project, store=store, env=ENV)
    assert done.returncode == 0, done.stderr
    assert "epoch 3/3" in done.stdout
    (run,) = store.runs()
    client = store.client()
    run = client.get_run(run.info.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"data_path": "data.csv", "epochs": "3", "classifier": "SGDClassifier"}
    assert [m.step for m in client.get_metric_history(run.info.run_id, "accuracy")] == [0, 1, 2]
    assert {f.path for f in client.list_artifacts(run.info.run_id)} == {"model", "run.log"}
    tags = run.data.tags
    assert tags["mlflow.project.env"] == "docker" and tags["mlflow.docker.image.uri"].startswith("pack-test/")
    assert tags["mlflow.docker.image.id"].startswith("sha256:")
    import pack

    assert pack.pyfunc.load_model(f"runs:/{run.info.run_id}/model").metadata.run_id == run.info.run_id


@pytest.mark.parametrize("value", ["x; touch pwned", "$(touch pwned)"])
def test_values_stay_inert_inside_the_container(docker_project, store, value):
    done = pack_run(".", "-e", "show", "-P", f"v={value}", cwd=docker_project, store=store, env=ENV)
    assert done.returncode == 0, done.stderr
    assert f'ARGS=["--v", "{value}"] copied-from-host' in done.stdout
    assert (docker_project / "shell-ran").exists() and not list(docker_project.rglob("pwned"))


def test_the_project_is_mounted_unless_baked_into_an_image(docker_project, store):
    assert pack_run(".", "-e", "touch", cwd=docker_project, store=store, env=ENV).returncode == 0
    assert (docker_project / "written-in-container").exists()
    (docker_project / "written-in-container").unlink()
    done = pack_run(".", "-e", "touch", "--build-image", cwd=docker_project, store=store, env=ENV)
    assert done.returncode == 0, done.stderr
    assert not (docker_project / "written-in-container").exists()
    (built,) = [r for r in store.runs() if r.data.tags["mlflow.docker.image.uri"].startswith("my_ml_project:")]
    tag = built.data.tags["mlflow.docker.image.uri"]
    commit = built.data.tags["mlflow.source.git.commit"]
    try:
        assert tag == f"my_ml_project:{commit[:7]}"
        assert built.data.tags["mlflow.docker.image.id"] == docker("image", "inspect", "-f", "{{.Id}}", tag)
    finally:
        docker("image", "rm", "-f", tag, check=False)


def test_a_path_outside_the_project_is_mounted(docker_project, store, tmp_path):
    table = tmp_path / "elsewhere" / "table.csv"
    table.parent.mkdir()
    table.write_text("a\n1\n2\n")
    done = pack_run(".", "-e", "count", "-P", f"table={table}", cwd=docker_project, store=store, env=ENV)
    assert done.returncode == 0, done.stderr
    assert "LINES 3" in done.stdout
    (run,) = store.runs()
    assert run.data.params["table"] == str(table)


def test_a_variable_the_project_copies_must_be_set(docker_project, store):
    assert pack_run(".", "-e", "touch", cwd=docker_project, store=store, env={"PACK_TEST_COPIED": ""}).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "PACK_TEST_COPIED"}
    missing = subprocess.run(
        [*pack_command(), "run", ".", "-e", "touch"],
        cwd=docker_project,
        env={**env, **store.env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2, missing.stderr
    assert "copies PACK_TEST_COPIED from the environment, and it is not set" in missing.stderr
    assert len(store.runs()) == 1


def test_ctrl_c_stops_the_container(docker_project, store):
    process = subprocess.Popen(
        [*pack_command(), "run", ".", "-e", "sleep"],
        cwd=docker_project,
        env={**os.environ, **store.env, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not docker("ps", "-q", "--filter", "name=pack-run-"):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the container never started"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    (run,) = store.runs()
    assert run.info.status == "KILLED"
    assert not docker("ps", "-aq", "--filter", "name=pack-run-")


def test_container_options_for_a_tracking_server_on_loopback(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    common = {
        "project_dir": project,
        "mount_project": True,
        "values": {},
        "paths": {},
        "run_env": {"PACK_RUN_ID": "r1"},
        "artifact_uri": "s3://bucket/runs/r1",
        "docker_args": {},
        "host_env": {"AWS_ACCESS_KEY_ID": "id", "OTHER": "x"},
    }
    local = container_for("r1", DockerEnv("img"), tracking_uri="http://127.0.0.1:5000", **common)
    assert "--network host" in " ".join(local.options)
    assert local.environment["PACK_TRACKING_URI"] == "http://127.0.0.1:5000"
    assert local.environment["AWS_ACCESS_KEY_ID"] == "id" and "OTHER" not in local.environment
    assert "AWS_ACCESS_KEY_ID" in local.options and not any("=id" in option for option in local.options)
    remote = container_for("r1", DockerEnv("img"), tracking_uri="https://tracking.example.com", **common)
    assert "--network" not in remote.options
    sqlite = container_for("r1", DockerEnv("img"), tracking_uri=f"sqlite:///{tmp_path}/db/pack.db", **common)
    assert f"{tmp_path}/db:/pack/tracking" in sqlite.options
    assert sqlite.environment["PACK_TRACKING_URI"] == "sqlite:////pack/tracking/pack.db"
    chosen = container_for(
        "r1", DockerEnv("img"), tracking_uri="http://localhost:5000", **{**common, "docker_args": {"network": "bridge"}}
    )
    assert chosen.options.count("--network") == 1 and "bridge" in chosen.options
