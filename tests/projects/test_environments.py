"""Environments: uv and virtualenv built from the project's spec, created once and reused; conda when present."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from devtools import REPO
from tests.projects.conftest import TIMINGS, commit_all, make_wheel, pack_run

SHOW_ENV = """\
import json, os, shutil, sys
import tinydep
found = {"prefix": sys.prefix, "python": shutil.which("python"), "conda": os.environ.get("CONDA_PREFIX")}
print("ENV=" + json.dumps({**found, "value": tinydep.VALUE}))
"""


def shown(stdout: str) -> dict:
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("ENV="))[4:])


def environment_line(stderr: str) -> tuple[str, str, float]:
    """(``created``/``reusing``, environment name, seconds) from the run's report."""
    match = re.search(r"(created|reusing) the \w+ environment (\S+) \(([0-9.]+) s\)", stderr)
    assert match, stderr
    return match.group(1), match.group(2), float(match.group(3))


@pytest.fixture
def tiny_project(tmp_path: Path) -> Path:
    project = tmp_path / "tiny"
    make_wheel(project / "dist", "tinydep", "0.1", "VALUE = 41\n")
    (project / "MLproject").write_text(
        "name: tiny\npython_env: python_env.yaml\nentry_points: {main: {command: 'python show.py'}}\n"
    )
    (project / "python_env.yaml").write_text(
        f"python: '{sys.version_info.major}.{sys.version_info.minor}'\n"
        "build_dependencies: []\n"
        "dependencies: [-r requirements.txt]\n"
    )
    (project / "requirements.txt").write_text("./dist/tinydep-0.1-py3-none-any.whl\n")
    (project / "show.py").write_text(SHOW_ENV)
    return project


@pytest.mark.parametrize("manager", ["virtualenv", "uv"])
def test_python_env_is_built_once_then_reused(tiny_project, store, manager, project_cache):
    args = ["--env-manager", manager]
    first = pack_run(str(tiny_project), *args, cwd=tiny_project.parent, store=store)
    assert first.returncode == 0, first.stderr
    created, name, _ = environment_line(first.stderr)
    assert created == "created" and name.startswith(f"{manager}-")
    env_dir = project_cache / "envs" / name
    assert shown(first.stdout) == {
        "prefix": str(env_dir),
        "python": str(env_dir / "bin" / "python"),
        "conda": None,
        "value": 41,
    }
    second = pack_run(str(tiny_project), *args, cwd=tiny_project.parent, store=store)
    assert environment_line(second.stderr)[:2] == ("reusing", name)
    (tiny_project / "requirements.txt").write_text("./dist/tinydep-0.2-py3-none-any.whl\n")
    make_wheel(tiny_project / "dist", "tinydep", "0.2", "VALUE = 42\n")
    third = pack_run(str(tiny_project), *args, cwd=tiny_project.parent, store=store)
    assert environment_line(third.stderr)[0] == "created" and environment_line(third.stderr)[1] != name
    assert shown(third.stdout)["value"] == 42
    runs = store.runs()
    assert {run.data.tags["mlflow.project.env"] for run in runs} == {manager}
    assert {run.data.tags["pack.project.environment"] for run in runs} == {name, environment_line(third.stderr)[1]}


def test_python_env_projects_default_to_uv_when_it_is_installed(tiny_project, store):
    done = pack_run(str(tiny_project), cwd=tiny_project.parent, store=store)
    assert done.returncode == 0, done.stderr
    assert environment_line(done.stderr)[1].startswith("uv-") and shown(done.stdout)["value"] == 41
    assert store.runs()[0].data.tags["mlflow.project.env"] == "uv"


def test_a_failed_build_fails_the_run_and_leaves_no_environment(tiny_project, store, project_cache):
    (tiny_project / "requirements.txt").write_text("./dist/absent-9.9-py3-none-any.whl\n")
    done = pack_run(str(tiny_project), "--env-manager", "virtualenv", cwd=tiny_project.parent, store=store)
    assert done.returncode == 1
    assert "error: pip install failed (exit code 1); its output is in the run's run.log" in done.stderr
    (run,) = store.runs()
    assert run.info.status == "FAILED"
    log = Path(store.client().download_artifacts(run.info.run_id, "run.log", str(tiny_project.parent))).read_text()
    assert "absent-9.9-py3-none-any.whl" in log
    assert not [p for p in (project_cache / "envs").glob("virtualenv-*") if not (p / ".pack-env.json").exists()]


def test_a_python_that_is_not_installed_is_refused_before_the_run(tiny_project, store):
    (tiny_project / "python_env.yaml").write_text("python: '3.2'\ndependencies: []\n")
    done = pack_run(str(tiny_project), "--env-manager", "virtualenv", cwd=tiny_project.parent, store=store)
    assert done.returncode == 2 and "Python 3.2 is not installed here" in done.stderr
    assert "--env-manager uv" in done.stderr
    assert store.runs() == []


def test_a_conda_project_without_conda_says_how_to_run_it(seed_project, store):
    done = pack_run(".", "-P", "epochs=1", cwd=seed_project, store=store, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "neither conda nor mamba is installed" in done.stderr and "--env-manager uv" in done.stderr
    assert store.runs() == []


def test_the_seed_project_runs_under_uv_from_its_conda_yaml(seed_project, store, project_cache):
    """The issue's project: conda.yaml read for uv (its Python and pip part; conda-only packages named)."""
    conda = (seed_project / "conda.yaml").read_text()
    conda = conda.replace("  - pip\n", "  - pip\n  - cudatoolkit=11.8\n").replace(
        "      - pack[sklearn]\n", f"      - -e {REPO}[sklearn]\n"
    )
    (seed_project / "conda.yaml").write_text(conda)
    commit = commit_all(seed_project, "pack from this checkout")
    timings, reports = [], []
    for _ in range(2):
        start = time.monotonic()
        done = pack_run(".", "-P", "epochs=3", "--env-manager", "uv", cwd=seed_project, store=store)
        timings.append(time.monotonic() - start)
        assert done.returncode == 0, done.stderr
        assert "conda-only packages left out of the uv environment: cudatoolkit=11.8" in done.stderr
        reports.append(environment_line(done.stderr))
    assert (reports[0][0], reports[1][0]) == ("created", "reusing") and reports[0][1] == reports[1][1]
    runs = store.runs()
    assert len(runs) == 2 and {run.info.status for run in runs} == {"FINISHED"}
    client = store.client()
    for run in runs:
        assert run.data.params == {"data_path": "data.csv", "epochs": "3", "classifier": "SGDClassifier"}
        assert run.data.tags["mlflow.source.git.commit"] == commit and run.data.tags["mlflow.project.env"] == "uv"
        assert {f.path for f in client.list_artifacts(run.info.run_id)} == {"model", "run.log"}
    TIMINGS["seed project under uv, first run"] = f"{timings[0]:.1f} s (environment built in {reports[0][2]:.1f} s)"
    TIMINGS["seed project under uv, second run"] = f"{timings[1]:.1f} s (environment reused in {reports[1][2]:.2f} s)"


FAKE_CONDA = """\
#!/bin/sh
# Stands in for conda (not installable here): records its arguments, makes the prefix it is asked for.
echo "$@" >> "$FAKE_CONDA_LOG"
while [ $# -gt 0 ]; do
  case "$1" in --prefix) prefix="$2"; shift;; esac
  shift
done
mkdir -p "$prefix/bin" "$prefix/conda-meta"
printf '#!/bin/sh\\nexec %s "$@"\\n' "{python}" > "$prefix/bin/python"
chmod +x "$prefix/bin/python"
"""


def test_conda_env_create_is_called_once_and_its_prefix_runs_the_command(tiny_project, store, tmp_path):
    """conda cannot be installed on these machines: a stand-in ``conda`` on PATH checks pack's side of the
    boundary (the ``conda env create`` call, the cache, ``CONDA_PREFIX`` and ``PATH`` for the command)."""
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "conda").write_text(FAKE_CONDA.replace("{python}", sys.executable))
    (fake / "conda").chmod(0o755)
    (tiny_project / "python_env.yaml").unlink()
    (tiny_project / "MLproject").write_text(
        "name: tiny\nconda_env: conda.yaml\nentry_points: {main: {command: 'python show.py'}}\n"
    )
    (tiny_project / "conda.yaml").write_text("dependencies: [python=3.11, pip]\n")
    (tiny_project / "show.py").write_text("import sys; sys.path.insert(0, 'tinysrc')\n" + SHOW_ENV)
    (tiny_project / "tinysrc" / "tinydep").mkdir(parents=True)
    (tiny_project / "tinysrc" / "tinydep" / "__init__.py").write_text("VALUE = 7\n")
    env = {"PATH": f"{fake}:{os.environ['PATH']}", "FAKE_CONDA_LOG": str(tmp_path / "conda.log")}
    for _ in range(2):
        done = pack_run(str(tiny_project), cwd=tmp_path, store=store, env=env)
        assert done.returncode == 0, done.stderr
        prefix = shown(done.stdout)["conda"]
        assert Path(prefix).name.startswith("conda-") and shown(done.stdout)["value"] == 7
        assert shown(done.stdout)["python"] == f"{prefix}/bin/python"
    (call,) = (tmp_path / "conda.log").read_text().splitlines()
    assert call == f"env create --quiet --yes --prefix {prefix} --file {tiny_project / 'conda.yaml'}"
    assert {run.data.tags["mlflow.project.env"] for run in store.runs()} == {"conda"}
