"""``code_paths``: user source copied into the model directory and put on ``sys.path`` at load."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pack._fs import copy_into, safe_join
from pack.errors import InvalidInput

CODE_DIR = "code"


def copy_code_paths(code_paths: Sequence[str | os.PathLike[str]] | None, model_dir: Path) -> str | None:
    """Copy files/directories into ``model_dir/code``; return the relative dir (None if nothing)."""
    if not code_paths:
        return None
    target = model_dir / CODE_DIR
    target.mkdir()
    for entry in code_paths:
        source = Path(entry)
        if not source.exists():
            raise InvalidInput(f"code path {source} does not exist")
        destination = target / source.name
        if destination.exists():
            raise InvalidInput(f"two code paths are named {source.name!r}")
        copy_into(source, destination)
    return CODE_DIR


def add_code_to_sys_path(model_dir: Path, conf: Mapping[str, Any]) -> None:
    """Put the model's ``code`` directory first on ``sys.path`` (once)."""
    code = conf.get("code")
    if not code:
        return
    path = str(safe_join(model_dir, str(code)))
    if path not in sys.path:
        sys.path.insert(0, path)


__all__ = ["CODE_DIR", "add_code_to_sys_path", "copy_code_paths"]
