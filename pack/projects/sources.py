"""Where a project's code comes from: a local directory, a local git repository, or a git URL.

``URI[#subdirectory]``: a directory runs in place (its git commit, branch and dirty flag are recorded
when it is in a working tree). A git URL (``https://``, ``ssh://``, ``git@host:path``, ``file://``), a
bare repository, or any local repository with ``--version`` is fetched into a mirror kept in the cache
(``<cache>/projects/repos``, one per URL, fetched again on each run unless the commit is already there),
and the requested commit, branch or tag (default: the remote's HEAD branch) is checked out into a fresh
working copy for this run (``<cache>/projects/work``), removed when the run ends.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from pack.errors import InvalidInput, NotFound, ProjectError
from pack.projects.cache import exclusive
from pack.projects.git import GitInfo, git, is_git_repository, work_tree_info

_REMOTE_SCHEMES = ("https", "http", "ssh", "git", "git+ssh", "git+https")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:")
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class FetchedProject:
    """A project's code on local disk, where it came from, and the working copy to remove afterwards."""

    directory: Path
    source: str
    """The ``mlflow.source.name`` of the run: the URI, or for a directory its ``file://`` URI (its git
    remote's URL, with ``#subdirectory``, when it has an ``origin``), as MLflow records it."""
    git: GitInfo
    temporary: Path | None = None


def fetch_project(uri: str, version: str | None, *, cache_dir: Path, cwd: Path) -> FetchedProject:
    """The project at ``uri`` (at ``version``) as a local directory.

    Raises:
        NotFound: no such directory, subdirectory or version. InvalidInput: a malformed URI or a
        ``--version`` for a directory outside git. ProjectError: git failed (network, credentials).
    """
    base, _, fragment = uri.partition("#")
    subdirectory = _subdirectory(fragment)
    scheme = urlparse(base).scheme
    if scheme in _REMOTE_SCHEMES or _SCP_LIKE.match(base):
        return _from_git(base, base, version, subdirectory, uri=uri, cache_dir=cache_dir)
    if scheme not in ("", "file") and len(scheme) > 1:
        raise InvalidInput(f"cannot fetch a project from {uri!r}: use a directory or a git URL")
    path = Path(urlparse(base).path if scheme == "file" else base).expanduser()
    path = (path if path.is_absolute() else cwd / path).resolve()
    if scheme == "file" and (is_git_repository(path) or not path.exists()):  # a git URL: the mirror may have it
        return _from_git(base, base, version, subdirectory, uri=uri, cache_dir=cache_dir)
    if not path.exists():
        raise NotFound(f"no project at {uri!r} ({path} does not exist)")
    bare = is_git_repository(path) and not (path / ".git").exists()
    if bare or version is not None:
        return _from_local_repository(path, version, subdirectory, uri=uri, cache_dir=cache_dir)
    directory = _inside(path, subdirectory, uri)
    found = work_tree_info(directory)
    if found is None:
        return FetchedProject(directory, directory.as_uri(), GitInfo())
    info, top = found
    relative = directory.relative_to(top).as_posix()
    if info.repo_url is None:
        return FetchedProject(directory, directory.as_uri(), info)
    return FetchedProject(directory, info.repo_url + (f"#{relative}" if relative != "." else ""), info)


def _subdirectory(fragment: str) -> PurePosixPath:
    sub = PurePosixPath(fragment.strip("/")) if fragment else PurePosixPath()
    if sub.is_absolute() or ".." in sub.parts:
        raise InvalidInput(f"project subdirectory {fragment!r} must stay inside the repository")
    return sub


def _inside(root: Path, subdirectory: PurePosixPath, uri: str) -> Path:
    directory = (root / subdirectory).resolve()
    if not directory.is_relative_to(root.resolve()):
        raise InvalidInput(f"project subdirectory of {uri!r} leaves the repository")
    if not directory.is_dir():
        raise NotFound(f"no directory {subdirectory.as_posix()!r} in {uri!r}")
    return directory


def _from_local_repository(
    path: Path, version: str | None, subdirectory: PurePosixPath, *, uri: str, cache_dir: Path
) -> FetchedProject:
    if is_git_repository(path):
        return _from_git(str(path), str(path), version, subdirectory, uri=uri, cache_dir=cache_dir)
    found = work_tree_info(path)
    if found is None:
        raise InvalidInput(f"--version needs a git repository, and {path} is not in one")
    _, top = found
    inner = PurePosixPath(path.relative_to(top).as_posix()) / subdirectory
    return _from_git(str(top), str(top), version, inner, uri=uri, cache_dir=cache_dir)


def _from_git(
    url: str, display_url: str, version: str | None, subdirectory: PurePosixPath, *, uri: str, cache_dir: Path
) -> FetchedProject:
    root = cache_dir / "projects"
    mirror = root / "repos" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}.git"
    mirror.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(mirror.with_suffix(".lock")):
        if not (mirror / "HEAD").is_file():
            shutil.rmtree(mirror, ignore_errors=True)
            git("init", "--bare", "--quiet", str(mirror))
        commit, branch = _resolve(mirror, url, version)
        work = root / "work"
        work.mkdir(parents=True, exist_ok=True)
        checkout = Path(tempfile.mkdtemp(prefix="run-", dir=work))
        try:
            git("clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(checkout))
        except BaseException:
            shutil.rmtree(checkout, ignore_errors=True)
            raise
    try:
        if branch:
            git("checkout", "--quiet", "-B", branch, commit, cwd=checkout)
        else:
            git("checkout", "--quiet", "--detach", commit, cwd=checkout)
        git("remote", "set-url", "origin", display_url, cwd=checkout)
        if (checkout / ".gitmodules").is_file():
            git("submodule", "update", "--init", "--recursive", "--quiet", cwd=checkout)
        directory = _inside(checkout, subdirectory, uri)
    except BaseException:
        shutil.rmtree(checkout, ignore_errors=True)
        raise
    return FetchedProject(directory, uri, GitInfo(commit, branch, False, display_url), checkout)


def _resolve(mirror: Path, url: str, version: str | None) -> tuple[str, str | None]:
    """The commit (and branch, if ``version`` names one) to check out; fetches unless it is known."""
    if version is not None and _FULL_SHA.fullmatch(version) and _commit(mirror, version):
        return version, None
    if version is None:
        head = git("ls-remote", "--symref", url, "HEAD").stdout
        match = re.search(r"^ref: refs/heads/(\S+)\s+HEAD$", head, re.MULTILINE)
        if match is None:
            raise ProjectError(f"cannot tell the default branch of {url}; pass --version BRANCH")
        version = match.group(1)
    git("fetch", "--quiet", "--prune", "--force", "--tags", url, "+refs/heads/*:refs/heads/*", cwd=mirror)
    for ref, is_branch in ((f"refs/heads/{version}", True), (f"refs/tags/{version}", False), (version, False)):
        commit = _commit(mirror, ref)
        if commit:
            return commit, version if is_branch else None
    raise NotFound(f"version {version!r} is not a branch, tag or commit of {url}")


def _commit(mirror: Path, ref: str) -> str | None:
    if ref.startswith("-"):
        return None
    done = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", cwd=mirror, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


__all__ = ["FetchedProject", "fetch_project"]
