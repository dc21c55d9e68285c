"""A run records where its code comes from: the entry script, and its git commit, branch, origin and dirty flag.

The script runs in its own process (``sys.argv[0]`` is what a run records); the last test shows the
tags are the ones MLflow's own client writes for the same script, sent to ``pack server``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pack.tracking.source import work_tree_info

SCRIPT = """
import json, sys
import pack
with pack.start_run(tags={"team": "fraud"}) as run:
    pass
print(json.dumps(pack.get_run(run.info.run_id).data.tags))
"""


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a"}
    env["GIT_COMMITTER_EMAIL"] = "a@b"
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def _repository(root: Path, script: str) -> Path:
    """A git working tree with ``src/train.py`` committed on branch ``main``, origin carrying a token."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "train.py").write_text(script)
    (root / ".gitignore").write_text("*.db\npackruns/\nmlruns/\n")
    _git("init", "--quiet", "--initial-branch", "main", cwd=root)
    _git("remote", "add", "origin", "https://ci:s3cret-token@git.example.com/team/fraud.git", cwd=root)
    _git("add", ".", cwd=root)
    _git("commit", "--quiet", "-m", "train", cwd=root)
    return root


def _tags(python: str | Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PACK_", "MLFLOW_"))}
    done = subprocess.run(
        [str(python), "src/train.py", *args],
        cwd=cwd,
        env={**clean, "PACK_CACHE_DIR": str(cwd / ".cache"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    tags: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return tags


def test_a_run_records_its_script_and_git_commit(tmp_path):
    root = _repository(tmp_path / "repo", SCRIPT)
    commit = _git("rev-parse", "HEAD", cwd=root)
    tags = _tags(sys.executable, root)
    assert tags["mlflow.source.name"] == "src/train.py"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.git.commit"] == commit
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://git.example.com/team/fraud.git"  # no token
    assert tags["mlflow.source.git.dirty"] == "false"
    assert tags["team"] == "fraud" and tags["mlflow.user"]

    (root / "README.md").write_text("not committed")  # anywhere in the tree, not only next to the script
    assert _tags(sys.executable, root)["mlflow.source.git.dirty"] == "true"
    _git("checkout", "--quiet", "--detach", cwd=root)
    assert "mlflow.source.git.branch" not in _tags(sys.executable, root)


def test_tags_given_win_and_no_git_means_no_git_tags(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(
        SCRIPT.replace('{"team": "fraud"}', '{"mlflow.source.name": "notebook.ipynb"}')
    )
    tags = _tags(sys.executable, tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert tags["mlflow.source.name"] == "notebook.ipynb"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert not [key for key in tags if key.startswith("mlflow.source.git")]


def test_outside_a_work_tree_or_without_git_there_is_nothing_to_read(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert work_tree_info(tmp_path) is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert work_tree_info(tmp_path) is None


@pytest.mark.interop
@pytest.mark.slow
def test_the_tags_are_the_ones_mlflows_client_writes(tmp_path, mlflow_python):
    """The same script, once with pack and once with MLflow's client against ``pack server``."""
    from tests.server.support import TrackingServerProcess

    mlflow_script = """
import json, sys
import mlflow
mlflow.set_tracking_uri(sys.argv[1])
with mlflow.start_run(tags={"team": "fraud"}) as run:
    pass
print(json.dumps(mlflow.get_run(run.info.run_id).data.tags))
"""
    root = _repository(tmp_path / "repo", SCRIPT)
    (root / "src" / "mlflow_train.py").write_text(mlflow_script)
    _git("add", ".", cwd=root)
    _git("commit", "--quiet", "-m", "mlflow", cwd=root)
    ours = _tags(sys.executable, root)
    server = TrackingServerProcess(
        ["--backend-store-uri", f"sqlite:///{tmp_path}/server.db", "--default-artifact-root", str(tmp_path / "art")],
        tmp_path / "server.log",
    )
    try:
        (root / "src" / "train.py").rename(root / "src" / "pack_train.py")
        (root / "src" / "mlflow_train.py").rename(root / "src" / "train.py")
        theirs = _tags(mlflow_python, root, server.url, env={"GIT_PYTHON_REFRESH": "quiet"})
    finally:
        server.stop()
    shared = {key for key in theirs if key.startswith("mlflow.source")}
    assert {"mlflow.source.name", "mlflow.source.type", "mlflow.source.git.commit"} <= shared
    assert {key: theirs[key] for key in shared} == {key: ours[key] for key in shared}


def test_over_http_the_same_tags_are_recorded(tmp_path, tracking_server):
    """pack's client against a tracking server records what it records in process."""
    root = _repository(tmp_path / "repo", SCRIPT)
    local = _tags(sys.executable, root)
    remote = _tags(sys.executable, root, env={"PACK_TRACKING_URI": tracking_server.url})
    recorded = {key for key in local if key.startswith("mlflow.source")} | {"mlflow.user", "team"}
    assert {"mlflow.source.git.commit", "mlflow.source.git.dirty"} <= recorded
    assert {key: remote.get(key) for key in recorded} == {key: local[key] for key in recorded}
