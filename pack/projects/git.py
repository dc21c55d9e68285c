"""The ``git`` command line, as projects use it: one runner, and what a working tree says about itself."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pack.errors import ProjectError


@dataclass(frozen=True)
class GitInfo:
    """Where a project's code comes from: commit, branch (None when detached), dirty flag, origin URL."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    repo_url: str | None = None


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``git ARGS`` without prompting for credentials.

    Raises:
        ProjectError: git is not installed, or (with ``check``) the command failed; the message
            carries git's last error line.
    """
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise ProjectError("git is not installed (it is needed for git project URIs and --version)") from None
    if check and done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = next((line for line in reversed(lines) if line.startswith(("fatal:", "error:"))), None)
        raise ProjectError(f"git {args[0]} failed: {reason or (lines[-1] if lines else f'exit {done.returncode}')}")
    return done


def work_tree_info(directory: Path) -> tuple[GitInfo, Path] | None:
    """What the git working tree holding ``directory`` says (and its top level), or None outside one.

    ``dirty``: a file under ``directory`` is modified, staged, or untracked (and not ignored).
    """
    try:
        status = git(
            "status", "--porcelain=v2", "--branch", "--untracked-files=normal", "--", ".", cwd=directory, check=False
        )
    except ProjectError:  # no git: no provenance, not an error
        return None
    if status.returncode != 0:
        return None
    commit = branch = None
    dirty = False
    for line in status.stdout.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            commit = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            branch = None if head == "(detached)" else head
        elif not line.startswith("#"):
            dirty = True
    top = git("rev-parse", "--show-toplevel", cwd=directory).stdout.strip()
    remote = git("remote", "get-url", "origin", cwd=directory, check=False)
    url = remote.stdout.strip() if remote.returncode == 0 else None
    return GitInfo(commit, branch, dirty, url or None), Path(top)


def is_git_repository(path: Path) -> bool:
    """Whether ``path`` is a git repository (bare, or the top of a working tree)."""
    if (path / ".git").exists():
        return True
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


__all__ = ["GitInfo", "git", "is_git_repository", "work_tree_info"]
