"""Project sources: directories in place, git repositories and URLs fetched through a cached mirror."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pack.errors import InvalidInput, NotFound
from pack.projects.sources import fetch_project
from tests.projects.conftest import commit_all, git, init_repo


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, str]:
    """A repository with a project in ``proj/``: main (2 commits), branch ``feature``, tag ``v1``; and a bare clone."""
    work = init_repo(tmp_path / "work")
    (work / "proj").mkdir()
    (work / "proj" / "MLproject").write_text("name: p\nentry_points: {main: {command: python t.py}}\n")
    (work / "proj" / "t.py").write_text("print('v1')\n")
    first = commit_all(work, "one")
    git(work, "tag", "v1")
    (work / "proj" / "t.py").write_text("print('v2')\n")
    second = commit_all(work, "two")
    git(work, "checkout", "-q", "-b", "feature")
    (work / "proj" / "t.py").write_text("print('feature')\n")
    feature = commit_all(work, "feature")
    git(work, "checkout", "-q", "main")
    git(tmp_path, "clone", "-q", "--bare", str(work), str(tmp_path / "bare.git"))
    return {"first": first, "second": second, "feature": feature, "work": str(work), "bare": str(tmp_path / "bare.git")}


def fetch(uri: str, tmp_path: Path, version: str | None = None):
    return fetch_project(uri, version, cache_dir=tmp_path / "cache", cwd=tmp_path)


def test_a_directory_in_a_work_tree_runs_in_place_with_its_provenance(repo, tmp_path):
    project = Path(repo["work"]) / "proj"
    fetched = fetch(str(project), tmp_path)
    assert fetched.directory == project and fetched.temporary is None
    assert (fetched.git.commit, fetched.git.branch, fetched.git.dirty) == (repo["second"], "main", False)
    assert fetched.source == project.as_uri()
    (project / "new.py").write_text("")
    assert fetch(str(project), tmp_path).git.dirty is True
    git(Path(repo["work"]), "remote", "add", "origin", "https://example.com/team/repo.git")
    assert fetch(str(project), tmp_path).source == "https://example.com/team/repo.git#proj"


def test_a_directory_outside_git_has_no_provenance(tmp_path):
    (tmp_path / "p").mkdir()
    fetched = fetch("p", tmp_path)
    assert fetched.directory == tmp_path / "p" and fetched.git.commit is None and fetched.git.dirty is None


def test_a_git_url_with_a_subdirectory_checks_out_the_default_branch(repo, tmp_path):
    uri = f"file://{repo['bare']}#proj"
    fetched = fetch(uri, tmp_path)
    try:
        assert (fetched.directory / "t.py").read_text() == "print('v2')\n"
        assert (fetched.git.commit, fetched.git.branch, fetched.git.dirty) == (repo["second"], "main", False)
        assert fetched.git.repo_url == f"file://{repo['bare']}" and fetched.source == uri
        assert fetched.temporary is not None and fetched.directory.is_relative_to(fetched.temporary)
        assert fetched.temporary.is_relative_to(tmp_path / "cache" / "projects" / "work")
        assert git(fetched.directory, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    finally:
        shutil.rmtree(fetched.temporary)


@pytest.mark.parametrize(
    ("version", "expected", "branch", "text"),
    [
        ("feature", "feature", "feature", "print('feature')\n"),
        ("v1", "first", None, "print('v1')\n"),
        ("first", "first", None, "print('v1')\n"),
        ("first-short", "first", None, "print('v1')\n"),
    ],
)
def test_version_is_a_branch_tag_or_commit(repo, tmp_path, version, expected, branch, text):
    if version == "first":
        version = repo["first"]
    elif version == "first-short":
        version = repo["first"][:8]
    fetched = fetch(f"file://{repo['bare']}#proj", tmp_path, version)
    assert (fetched.git.commit, fetched.git.branch) == (repo[expected], branch)
    assert (fetched.directory / "t.py").read_text() == text


def test_a_local_work_tree_with_version_is_fetched_from_its_top_level(repo, tmp_path):
    fetched = fetch(str(Path(repo["work"]) / "proj"), tmp_path, "v1")
    assert fetched.temporary is not None
    assert fetched.directory.name == "proj" and (fetched.directory / "t.py").read_text() == "print('v1')\n"
    assert fetched.git.commit == repo["first"] and fetched.git.repo_url == repo["work"]


def test_a_known_commit_runs_again_without_the_source(repo, tmp_path):
    first = fetch(f"file://{repo['bare']}#proj", tmp_path, repo["feature"])
    shutil.rmtree(repo["bare"])
    again = fetch(f"file://{repo['bare']}#proj", tmp_path, repo["feature"])
    assert again.git.commit == first.git.commit and again.directory != first.directory
    assert (again.directory / "t.py").read_text() == "print('feature')\n"


def test_bad_sources(repo, tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotFound, match="'nope' is not a branch, tag or commit"):
        fetch(f"file://{repo['bare']}#proj", tmp_path, "nope")
    with pytest.raises(InvalidInput, match="must stay inside the repository"):
        fetch(f"file://{repo['bare']}#../etc", tmp_path)
    with pytest.raises(NotFound, match="no directory 'missing'"):
        fetch(f"file://{repo['bare']}#missing", tmp_path)
    with pytest.raises(InvalidInput, match="--version needs a git repository"):
        fetch(str(tmp_path / "plain"), tmp_path, "main")
    with pytest.raises(NotFound, match="no project at"):
        fetch(str(tmp_path / "absent"), tmp_path)
    with pytest.raises(InvalidInput, match="use a directory or a git URL"):
        fetch("s3://bucket/project", tmp_path)
    assert not list((tmp_path / "cache" / "projects" / "work").iterdir())  # failed checkouts leave nothing
