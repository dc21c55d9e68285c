"""Finding an installed Python for a version request (``3.11`` or ``3.11.7``).

Looked at, in order: the running interpreter, ``python3.X``/``python3``/``python`` on ``PATH``, and
pyenv's versions (``$PYENV_ROOT``, default ``~/.pyenv``). An exact ``3.11.7`` is preferred; another
``3.11.x`` is taken when it is the only one (``Interpreter.exact`` tells).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Interpreter:
    """An installed Python: its path, its full version, and whether it is exactly the one asked for."""

    path: Path
    version: str
    exact: bool


def find_interpreter(request: str | None) -> Interpreter | None:
    """An installed Python matching ``request`` (None: the running one), or None."""
    if request is None:
        return Interpreter(Path(sys.executable), platform.python_version(), True)
    wanted = request.split(".")
    close: Interpreter | None = None
    for path, version in _candidates(".".join(wanted[:2])):
        parts = version.split(".")
        if parts[: len(wanted)] == wanted:
            return Interpreter(path, version, True)
        if close is None and parts[:2] == wanted[:2]:
            close = Interpreter(path, version, False)
    return close


def _candidates(minor: str) -> Iterator[tuple[Path, str]]:
    yield Path(sys.executable), platform.python_version()
    seen = {Path(sys.executable).resolve()}
    for name in (f"python{minor}", "python3", "python"):
        found = shutil.which(name)
        if found and Path(found).resolve() not in seen:
            seen.add(Path(found).resolve())
            version = _version_of(Path(found))
            if version:
                yield Path(found), version
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv.is_dir():
        for home in sorted(pyenv.iterdir(), reverse=True):
            python = home / "bin" / "python"
            if python.is_file() and python.resolve() not in seen and home.name[:1].isdigit():
                seen.add(python.resolve())
                yield python, home.name


def _version_of(python: Path) -> str | None:
    try:
        done = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


__all__ = ["Interpreter", "find_interpreter"]
