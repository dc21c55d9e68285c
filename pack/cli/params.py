"""Click parameter types that follow pack's exit-code rule (something missing is 1, unusable input 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pack.errors import NotFound


class ExistingPath(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """A path that must exist: a missing one is ``NotFound`` (exit 1), a directory where a file is due exit 2."""

    name = "path"

    def __init__(self, *, dir_okay: bool = True) -> None:
        self.dir_okay = dir_okay

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if not path.exists():
            raise NotFound(f"{value} does not exist")
        if path.is_dir() and not self.dir_okay:
            self.fail(f"{value} is a directory, not a file", param, ctx)
        return path


EXISTING_FILE = ExistingPath(dir_okay=False)
EXISTING_PATH = ExistingPath()

__all__ = ["EXISTING_FILE", "EXISTING_PATH", "ExistingPath"]
