"""`pack run` end to end: a real `pack` process, a real project, a real SQLite tracking store."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import pack
from devtools.cli import pack_command
from pack.errors import ProjectError
from tests.projects.conftest import commit_all, git, init_repo, pack_run

SHOW_ARGS = "import json, sys; print('ARGS=' + json.dumps(sys.argv[1:]))\n"


def write_project(root: Path, mlproject: str, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLproject").write_text(mlproject)
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    return root


def only_run(store):
    runs = store.runs()
    assert len(runs) == 1, runs
    return store.client().get_run(runs[0].info.run_id)


def printed_args(stdout: str) -> list[str]:
    return json.loads(next(line for line in stdout.splitlines() if line.startswith("ARGS="))[5:])


def test_the_seed_project_runs_and_records_everything(seed_project, store):
    done = pack_run(".", "-P", "epochs=3", "--env-manager", "local", cwd=seed_project, store=store)
    assert done.returncode == 0, done.stderr
    assert "epoch 3/3" in done.stdout
    assert done.stderr.strip().splitlines()[-1].endswith("FINISHED")
    run = only_run(store)
    client = store.client()
    assert run.info.status == "FINISHED"
    assert run.data.params == {"data_path": "data.csv", "epochs": "3", "classifier": "SGDClassifier"}
    assert [m.step for m in client.get_metric_history(run.info.run_id, "accuracy")] == [0, 1, 2]
    tags = run.data.tags
    assert tags["mlflow.source.git.commit"] == git(seed_project, "rev-parse", "HEAD")
    assert (tags["mlflow.source.git.branch"], tags["mlflow.source.git.dirty"]) == ("main", "false")
    assert tags["mlflow.source.type"] == "PROJECT" and tags["mlflow.source.name"] == seed_project.as_uri()
    assert (tags["mlflow.project.entryPoint"], tags["mlflow.project.env"]) == ("main", "local")
    assert (tags["mlflow.project.backend"], tags["pack.project.name"]) == ("local", "my_ml_project")
    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert files == {"model", "run.log"}
    log = Path(client.download_artifacts(run.info.run_id, "run.log", str(seed_project.parent))).read_text()
    assert "epoch 1/3" in log and "python train.py --data_path data.csv --epochs 3" in log
    import pandas as pd

    model = pack.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    rows = pd.read_csv(seed_project / "data.csv").drop(columns=["species"]).head(3)
    assert list(model.predict(rows)) == ["setosa", "setosa", "setosa"]


@pytest.mark.parametrize("value", ["x; touch pwned", "$(touch pwned)", "`touch pwned`", "a' && touch pwned '"])
def test_injection_values_stay_inert(tmp_path, store, value):
    project = write_project(
        tmp_path / "p",
        "entry_points:\n"
        "  main: {parameters: {v: str}, command: 'python show.py --v {v}'}\n"
        "  chained: {parameters: {v: str}, command: 'python show.py --v {v} \"{v}\" && python show.py done'}\n",
        {"show.py": SHOW_ARGS},
    )
    for entry in ("main", "chained"):
        done = pack_run(
            str(project), "-e", entry, "-P", f"v={value}", "-P", f"extra={value}", cwd=tmp_path, store=store
        )
        assert done.returncode == 0, done.stderr
        expected = ["--v", value, "--extra", value] if entry == "main" else ["--v", value, value]
        assert printed_args(done.stdout) == expected
    assert not list(tmp_path.rglob("pwned"))
    assert {run.data.params["v"] for run in store.runs()} == {value}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-P", "epochs=three"], "parameter 'epochs' must be an int, got 'three'"),
        (["-P", "epochs"], "parameter 'epochs' must be KEY=VALUE"),
        (["-e", "evaluate"], "no entry point 'evaluate'"),
        (["-e", "required"], "entry point 'required' needs a value for 'alpha' (-P alpha=VALUE)"),
        (["-e", "required", "-P", "alpha=1", "-P", "data=absent.csv"], "no such file or directory 'absent.csv'"),
        (["-P", "bad key=1"], "parameter name 'bad key' must be"),
        (["--env-manager", "pipenv"], "'pipenv' is not one of"),
        (["--build-image"], "--build-image is for projects with a docker_env"),
        (["-b", "kubernetes"], "backend 'kubernetes' is not supported"),
        (["--experiment-name", "a", "--experiment-id", "1"], "not both"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_records_nothing(tmp_path, store, args, message):
    project = write_project(
        tmp_path / "p",
        "entry_points:\n"
        "  main: {parameters: {epochs: {type: int, default: 1}}, command: 'python show.py {epochs}'}\n"
        "  required: {parameters: {alpha: float, data: {type: path, default: d.csv}}, command: 'python show.py'}\n",
        {"show.py": SHOW_ARGS, "d.csv": ""},
    )
    done = pack_run(str(project), *args, cwd=tmp_path, store=store)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert message in done.stderr
    assert done.stdout == ""
    assert store.runs() == []


def test_a_failing_command_is_FAILED_with_exit_code_1(tmp_path, store):
    project = write_project(
        tmp_path / "p",
        "entry_points: {main: {command: 'python fail.py'}}\n",
        {"fail.py": "import sys\nprint('about to fail', file=sys.stderr)\nsys.exit(3)\n"},
    )
    done = pack_run(str(project), cwd=tmp_path, store=store)
    assert done.returncode == 1
    assert "about to fail" in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("FAILED: the command exited with code 3")
    run = only_run(store)
    assert run.info.status == "FAILED"
    log = Path(store.client().download_artifacts(run.info.run_id, "run.log", str(tmp_path))).read_text()
    assert "about to fail" in log and "(exit code 3)" in log


SLEEPER = """\
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open("pids.tmp", "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace("pids.tmp", "pids")
print("sleeping", flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_marks_the_run_killed_and_leaves_no_process(tmp_path, store, sig, code):
    project = write_project(
        tmp_path / "p", "entry_points: {main: {command: 'python sleeper.py'}}\n", {"sleeper.py": SLEEPER}
    )
    with subprocess.Popen(
        [*pack_command(), "run", str(project)],
        cwd=tmp_path,
        env={**os.environ, **store.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a job started in the background by a shell inherits SIGINT ignored (POSIX),
        # and Python then installs no KeyboardInterrupt handler at all
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - one syscall
    ) as process:
        try:
            deadline = time.monotonic() + 120
            while not (project / "pids").exists():
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the project never started"
                time.sleep(0.1)
            pids = [int(p) for p in (project / "pids").read_text().split()]
            process.send_signal(sig)
            stdout, stderr = process.communicate(timeout=120)
        except BaseException:  # a failure must not leave pack run, its pipes or its children behind
            process.kill()
            for pid in [int(p) for p in (project / "pids").read_text().split()] if (project / "pids").exists() else []:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            raise
    assert process.returncode == code, stderr
    assert "sleeping" in stdout and stderr.strip().splitlines()[-1].endswith("KILLED")
    assert only_run(store).info.status == "KILLED"
    assert not [pid for pid in pids if alive(pid)]


def test_python_api_returns_a_submitted_run(tmp_path, store):
    project = write_project(
        tmp_path / "p",
        "entry_points:\n  main: {parameters: {n: {type: int, default: 2}}, command: 'python show.py {n}'}\n"
        "  slow: {command: 'python -c \"import time; time.sleep(600)\"'}\n"
        "  fail: {command: 'python -c \"raise SystemExit(4)\"'}\n",
        {"show.py": SHOW_ARGS},
    )
    out = io.StringIO()
    submitted = pack.projects.run(
        str(project), parameters={"n": 5}, synchronous=False, stdout=out, stderr=io.StringIO()
    )
    assert submitted.wait() and submitted.get_status() == "FINISHED" and submitted.exit_code == 0
    assert printed_args(out.getvalue()) == ["5"]
    assert store.client().get_run(submitted.run_id).data.params == {"n": "5"}
    slow = pack.projects.run(str(project), "slow", synchronous=False, stdout=io.StringIO())
    assert slow.get_status() == "RUNNING"
    slow.cancel()
    assert slow.get_status() == "KILLED" and store.client().get_run(slow.run_id).info.status == "KILLED"
    with pytest.raises(ProjectError, match=r"failed \(exit code 4\)"):
        pack.projects.run(str(project), "fail", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_git_url_runs_the_requested_version(tmp_path, store):
    work = init_repo(tmp_path / "work")
    write_project(
        work / "proj", "name: p\nentry_points: {main: {command: 'python t.py'}}\n", {"t.py": "print('ARGS=[\"v1\"]')\n"}
    )
    first = commit_all(work, "one")
    git(work, "tag", "v1")
    (work / "proj" / "t.py").write_text("print('ARGS=[\"v2\"]')\n")
    commit_all(work, "two")
    git(tmp_path, "clone", "-q", "--bare", str(work), str(tmp_path / "bare.git"))
    uri = f"file://{tmp_path}/bare.git#proj"
    done = pack_run(
        uri, "--version", "v1", "--experiment-name", "from-git", "--run-name", "tagged", cwd=tmp_path, store=store
    )
    assert done.returncode == 0, done.stderr
    assert printed_args(done.stdout) == ["v1"]
    client = store.client()
    experiment = client.get_experiment_by_name("from-git")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "tagged"
    tags = run.data.tags
    assert (tags["mlflow.source.git.commit"], tags["mlflow.source.name"], tags["pack.project.version"]) == (
        first,
        uri,
        "v1",
    )
    assert tags["mlflow.source.git.repoURL"] == f"file://{tmp_path}/bare.git"
    assert not list((Path(store.env["PACK_CACHE_DIR"]) / "projects" / "work").iterdir())  # the working copy is gone


def test_a_directory_without_mlproject_runs_its_scripts(tmp_path, store):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "show.py").write_text(SHOW_ARGS)
    (tmp_path / "p" / "hello.sh").write_text('echo "ARGS=[\\"$1\\"]"\n')
    done = pack_run("p", "-e", "show.py", "-P", "alpha=0.5", cwd=tmp_path, store=store)
    assert done.returncode == 0, done.stderr
    assert printed_args(done.stdout) == ["--alpha", "0.5"]
    assert pack_run("p", "-e", "hello.sh", cwd=tmp_path, store=store).returncode == 0
    assert {run.data.tags["mlflow.project.entryPoint"] for run in store.runs()} == {"show.py", "hello.sh"}
