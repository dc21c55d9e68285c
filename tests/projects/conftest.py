"""Fixtures for projects: git repositories, the example project, a tracking store, `pack run` in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import REPO
from devtools.cli import run_pack

EXAMPLE = REPO / "examples" / "my_ml_project"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
TIMINGS: dict[str, str] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the environment tests timed (reported, never asserted)."""
    if TIMINGS:
        terminalreporter.section("projects: environment creation and reuse")
        for key, value in TIMINGS.items():
            terminalreporter.write_line(f"{key}: {value}")


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_repo(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


@dataclass
class Store:
    """A tracking database and artifact root in a temporary directory, with the environment that selects them."""

    uri: str
    env: dict[str, str]

    def client(self) -> Any:
        import pack

        return pack.Client(tracking_uri=self.uri)

    def runs(self) -> list[Any]:
        return list(self.client().search_runs(["0"], max_results=100))


@pytest.fixture(scope="session")
def project_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session, so environments built by one test are reused by the next."""
    return tmp_path_factory.mktemp("pack-cache")


@pytest.fixture
def store(tmp_path: Path, project_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    from pack.registry.default import process_default

    uri = f"sqlite:///{tmp_path}/tracking/pack.db"
    (tmp_path / "tracking").mkdir()
    env = {
        "PACK_TRACKING_URI": uri,
        "PACK_DEFAULT_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
        "PACK_CACHE_DIR": str(project_cache),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    process_default().reset()
    yield Store(uri, env)
    process_default().reset()


def pack_run(*args: str, cwd: Path, store: Store, env: dict[str, str] | None = None, timeout: float = 600):
    """``pack run ARGS`` in a subprocess against ``store``."""
    return run_pack("run", *args, cwd=cwd, env={**store.env, **(env or {})}, timeout=timeout)


@pytest.fixture
def seed_project(tmp_path: Path) -> Path:
    """The example project (the issue's MLproject) in its own git repository, committed."""
    project = tmp_path / "my_ml_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "pack.db", "packruns", "mlruns"))
    init_repo(project)
    commit_all(project, "seed project")
    return project


def make_wheel(directory: Path, name: str, version: str, source: str) -> Path:
    """A pure-Python wheel holding module ``name`` (installs offline, with pip or uv)."""
    import base64
    import hashlib
    import zipfile

    directory.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel
