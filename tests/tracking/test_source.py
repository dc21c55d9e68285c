"""``start_run`` records where a run came from with MLflow's tags (entry script, user, git commit, branch,
remote, dirty flag): a real script in a real git work tree, logging in process (SQL store) and over HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.backends import SERVERS

SCRIPT = """
import pack
with pack.start_run() as run:
    pass
print(run.info.run_id)
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    root = tmp_path / "project"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "train.py").write_text(SCRIPT)
    (root / "data.csv").write_text("a,b\n1,2\n")
    _git(root, "add", "train.py", "data.csv")
    _git(root, "commit", "-q", "-m", "first")
    _git(root, "remote", "add", "origin", "https://alice:s3cret@git.example.com/team/project.git")
    return root


@pytest.fixture(params=["sqlite", *SERVERS])
def tracking_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/pack.db"
    return str(request.getfixturevalue(f"{request.param}_tracking_server").url)


def _run_script(directory: Path, tracking_uri: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACK_") or k.startswith("PACK_TEST")}
    env.update(
        PACK_TRACKING_URI=tracking_uri,
        PACK_DEFAULT_ARTIFACT_ROOT=str(tmp_path / "artifacts"),
        PACK_USER="trainer",
        PACK_CACHE_DIR=str(tmp_path / "cache"),
    )
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=directory, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    from pack.registry.services import Services
    from pack.registry.settings import RegistrySettings

    services = Services.from_settings(RegistrySettings(tracking_uri=tracking_uri))
    try:
        return dict(services.tracking.get_run(done.stdout.strip().splitlines()[-1]).data.tags)
    finally:
        services.close()


def test_a_run_records_its_script_user_and_git_state(repo: Path, tracking_uri: str, tmp_path: Path):
    commit = _git(repo, "rev-parse", "HEAD")
    tags = _run_script(repo, tracking_uri, tmp_path)
    assert tags["mlflow.source.name"] == "train.py"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.user"] == "trainer"
    assert tags["mlflow.source.git.commit"] == commit
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://git.example.com/team/project.git"  # no credentials
    assert tags["mlflow.source.git.dirty"] == "false"
    (repo / "data.csv").write_text("a,b\n1,3\n")  # a tracked file changed: the tree is dirty
    (repo / "untracked.txt").write_text("ignored by the dirty flag")
    dirty = _run_script(repo, tracking_uri, tmp_path)
    assert (dirty["mlflow.source.git.dirty"], dirty["mlflow.source.git.commit"]) == ("true", commit)


def test_detached_head_has_no_branch(repo: Path, tmp_path: Path):
    _git(repo, "checkout", "-q", "--detach")
    tags = _run_script(repo, f"sqlite:///{tmp_path}/pack.db", tmp_path)
    assert "mlflow.source.git.branch" not in tags and tags["mlflow.source.git.commit"]


def test_a_script_outside_git_records_no_git_tags(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "train.py").write_text(SCRIPT)
    tags = _run_script(plain, f"sqlite:///{tmp_path}/pack.db", tmp_path)
    assert tags["mlflow.source.name"] == "train.py"
    assert not [key for key in tags if key.startswith("mlflow.source.git")]


def test_user_tags_win_over_recorded_ones(workdir):
    import pack

    with pack.start_run(tags={"mlflow.source.name": "pipeline.step3"}) as run:
        pass
    assert pack.get_run(run.info.run_id).data.tags["mlflow.source.name"] == "pipeline.step3"
