"""Where a run's code comes from: the ``mlflow.source.*`` tags MLflow's client writes, read the same way.

``mlflow.source.name`` is the entry script as the process was started (``sys.argv[0]``, ``<console>``
without one), ``mlflow.source.type`` is ``LOCAL``; when that script lies in a git working tree, its
commit, branch (not when detached), ``origin`` URL (credentials removed) and whether the tree has
changes that are not committed (``mlflow.source.git.dirty``, as ``pack run`` records it). Read once per
process and script, as MLflow does.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
GIT_COMMIT_TAG = "mlflow.source.git.commit"
GIT_BRANCH_TAG = "mlflow.source.git.branch"
GIT_REPO_URL_TAG = "mlflow.source.git.repoURL"
GIT_DIRTY_TAG = "mlflow.source.git.dirty"


@dataclass(frozen=True)
class GitInfo:
    """What a git working tree says about its code: commit, branch (None when detached), dirty, origin URL."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    repo_url: str | None = None


def _git(args: list[str], cwd: Path) -> str | None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
    except OSError:  # no git, or no such directory: no provenance, not an error
        return None
    return done.stdout if done.returncode == 0 else None


def without_credentials(url: str) -> str:
    """``url`` without a ``user:token@`` part (scp-like ``git@host:path`` stays as it is)."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def work_tree_info(directory: Path, *, whole_tree: bool = False) -> tuple[GitInfo, Path] | None:
    """What the git working tree holding ``directory`` says (and its top level), or None outside one.

    ``dirty``: a file under ``directory`` (with ``whole_tree``, anywhere in the tree) is modified,
    staged, or untracked and not ignored.
    """
    scope = ":/" if whole_tree else "."
    status = _git(["status", "--porcelain=v2", "--branch", "--untracked-files=normal", "--", scope], directory)
    top = None if status is None else _git(["rev-parse", "--show-toplevel"], directory)
    if status is None or top is None:
        return None
    commit = branch = None
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            commit = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            branch = None if head == "(detached)" else head
        elif not line.startswith("#"):
            dirty = True
    remote = (_git(["remote", "get-url", "origin"], directory) or "").strip()
    url = without_credentials(remote) if remote else None
    return GitInfo(commit, branch, dirty, url), Path(top.strip())


@functools.lru_cache(maxsize=8)
def _tags_of(main_file: str | None, cwd: str) -> tuple[tuple[str, str], ...]:
    tags = {SOURCE_NAME_TAG: main_file or "<console>", SOURCE_TYPE_TAG: "LOCAL"}
    if main_file:
        script = Path(cwd, main_file)
        found = work_tree_info(script.parent, whole_tree=True) if script.is_file() else None
        if found is not None and found[0].commit is not None:
            git = found[0]
            tags[GIT_COMMIT_TAG] = git.commit or ""
            tags[GIT_DIRTY_TAG] = str(git.dirty).lower()
            if git.branch:
                tags[GIT_BRANCH_TAG] = git.branch
            if git.repo_url:
                tags[GIT_REPO_URL_TAG] = git.repo_url
    return tuple(tags.items())


def source_tags() -> dict[str, str]:
    """The source tags of a run this process starts (the entry script, and its git commit when it has one)."""
    main_file = sys.argv[0] if sys.argv and sys.argv[0] else None
    return dict(_tags_of(main_file, os.getcwd()))


__all__ = [
    "GIT_BRANCH_TAG",
    "GIT_COMMIT_TAG",
    "GIT_DIRTY_TAG",
    "GIT_REPO_URL_TAG",
    "SOURCE_NAME_TAG",
    "SOURCE_TYPE_TAG",
    "GitInfo",
    "source_tags",
    "without_credentials",
    "work_tree_info",
]
