"""The ``git`` command line, as projects use it (what a working tree says about itself: ``pack.tracking.source``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pack.errors import ProjectError
from pack.tracking.source import GitInfo, work_tree_info


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


def is_git_repository(path: Path) -> bool:
    """Whether ``path`` is a git repository (bare, or the top of a working tree)."""
    if (path / ".git").exists():
        return True
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


__all__ = ["GitInfo", "git", "is_git_repository", "work_tree_info"]
