"""Where a run came from, as the tags MLflow writes (so MLflow's UI shows ours and ours shows theirs).

``mlflow.source.name`` (the entry script, ``sys.argv[0]``), ``mlflow.source.type`` (``LOCAL``) and
``mlflow.user``; and when the entry script is in a git work tree (and not ignored by it):
``mlflow.source.git.commit``, ``.branch`` (unless HEAD is detached), ``.repoURL`` (the first remote,
credentials stripped) and ``.dirty`` (``true`` when tracked files differ from HEAD). Git is asked once
per process and entry script (the ``git`` command; nothing is recorded without it).
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pack.store.tags import USER_TAG

SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO_URL = "mlflow.source.git.repoURL"
GIT_DIRTY = "mlflow.source.git.dirty"
LOCAL = "LOCAL"
_GIT_TIMEOUT = 10.0


def source_tags(entry: str | None, user: str) -> dict[str, str]:
    """The source tags of a run started by the script ``entry`` (``sys.argv[0]``) as ``user``."""
    tags = {USER_TAG: user, SOURCE_NAME: entry or "<console>", SOURCE_TYPE: LOCAL}
    if entry and os.path.isfile(entry):
        tags.update(git_tags(os.path.abspath(entry)))
    return tags


@lru_cache(maxsize=8)
def git_tags(script: str) -> dict[str, str]:
    """The git tags for a script file (empty outside a git work tree, for ignored files, or without git)."""
    where = str(Path(script).parent)
    head = _git(where, "rev-parse", "HEAD", "--abbrev-ref", "HEAD")
    if head is None or _git(where, "check-ignore", "-q", script) is not None:
        return {}
    lines = head.splitlines()
    tags = {GIT_COMMIT: lines[0]}
    if len(lines) > 1 and lines[1] != "HEAD":
        tags[GIT_BRANCH] = lines[1]
    remotes = _git(where, "config", "--get-regexp", r"^remote\..*\.url$")
    if remotes:
        tags[GIT_REPO_URL] = _without_credentials(remotes.splitlines()[0].split(" ", 1)[-1])
    status = _git(where, "status", "--porcelain", "--untracked-files=no")
    if status is not None:
        tags[GIT_DIRTY] = "true" if status.strip() else "false"
    return tags


def _git(where: str, *args: str) -> str | None:
    """``git -C where args...``'s output, or None when it fails or git is missing."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-C", where, *args], capture_output=True, text=True, timeout=_GIT_TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _without_credentials(url: str) -> str:
    """A remote URL without ``user:token@`` (recorded tags are shown to everyone)."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))


__all__ = ["GIT_BRANCH", "GIT_COMMIT", "GIT_DIRTY", "GIT_REPO_URL", "SOURCE_NAME", "SOURCE_TYPE", "source_tags"]
