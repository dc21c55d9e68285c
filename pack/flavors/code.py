"""``code_paths``: user source copied into the model directory, importable when the model loads.

Model code is executable content: loading a model that ships it warns like a pickle does and is
refused under the safe-only policy (``pack.flavors.safety``). A model's ``code`` directory goes at the
*end* of ``sys.path``, never ahead of installed packages, and a module in it that would shadow a
module importable elsewhere (``code/threadpoolctl.py``, ``code/json/``) is refused outright, naming
it, unless it is the very same source (a model loaded in the project that saved it).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from pack._fs import copy_into, safe_join
from pack.errors import InvalidInput, InvalidModel
from pack.flavors.mlmodel import MLModel

CODE_DIR = "code"
_MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")


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


def code_dirs(model_dir: Path, model: MLModel) -> list[Path]:
    """The existing code directories that any section of the MLmodel names (``code: ...``).

    Raises:
        InvalidModel: a ``code`` entry leaves the model directory.
    """
    found: list[Path] = []
    for conf in model.flavors.values():
        code = conf.get("code")
        if not code:
            continue
        path = safe_join(model_dir, str(code))
        if path.is_dir() and path not in found:
            found.append(path)
    return found


def top_level_modules(code_dir: Path) -> dict[str, Path]:
    """Importable top-level names in ``code_dir``: modules (``x.py``, extensions) and packages."""
    modules: dict[str, Path] = {}
    for entry in sorted(code_dir.iterdir()):
        name = entry.name.split(".", 1)[0] if entry.is_file() and entry.name.endswith(_MODULE_SUFFIXES) else ""
        if entry.is_dir():
            name = entry.name
        if name.isidentifier() and name != "__pycache__":
            modules.setdefault(name, entry)
    return modules


def describe_code(model_dir: Path, model: MLModel) -> list[str]:
    """One line per code directory that holds modules, for the unsafe-content warning."""
    lines = []
    for code_dir in code_dirs(model_dir, model):
        names = sorted(top_level_modules(code_dir))
        if names:
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            lines.append(f"{code_dir.relative_to(model_dir).as_posix()}/ holds Python code ({shown})")
    return lines


def check_code(model_dir: Path, model: MLModel) -> None:
    """Refuse a model whose code would shadow a module importable elsewhere (imports nothing).

    Raises:
        InvalidModel: a module in a code directory has the name of another importable module.
    """
    for code_dir in code_dirs(model_dir, model):
        for name, entry in top_level_modules(code_dir).items():
            if entry.is_dir() and not any(entry.glob("__init__.*")):
                continue  # a namespace portion at the end of sys.path never wins over another module
            other = _importable_elsewhere(name, code_dir)
            if other is not None and not _same_source(entry, other):
                raise InvalidModel(
                    f"the model's {code_dir.name}/{entry.name} would shadow the module {name!r} "
                    f"({other}); pack does not load a model whose code replaces an installed module"
                )


def add_code_to_sys_path(model_dir: Path, model: MLModel) -> None:
    """Append the model's code directories to ``sys.path`` (once each), after ``check_code``.

    Raises:
        InvalidModel: a module in a code directory would shadow a module importable elsewhere.
    """
    check_code(model_dir, model)
    for code_dir in code_dirs(model_dir, model):
        if str(code_dir) not in sys.path:
            sys.path.append(str(code_dir))


def _importable_elsewhere(name: str, code_dir: Path) -> str | None:
    """Where ``name`` would be imported from without ``code_dir`` ("built-in" for built-ins), or None."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin in (None, "namespace") and spec.submodule_search_locations:
        locations = [str(p) for p in spec.submodule_search_locations]
        outside = [p for p in locations if not _inside(Path(p), code_dir)]
        return outside[0] if outside else None
    origin = str(spec.origin)
    if origin in ("built-in", "frozen"):
        return origin
    if _inside(Path(origin), code_dir):
        return None
    return str(Path(origin).parent) if Path(origin).name.startswith("__init__.") else origin


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return True


def _same_source(entry: Path, other: str) -> bool:
    """True when ``other`` holds exactly the files of ``entry`` (the same module, loaded twice)."""
    other_path = Path(other)
    if entry.is_file():
        return other_path.is_file() and _read(other_path) == _read(entry)
    if not other_path.is_dir():
        return False
    mine = dict(_source_files(entry))
    theirs = dict(_source_files(other_path))
    return mine.keys() == theirs.keys() and all(_read(mine[k]) == _read(theirs[k]) for k in mine)


def _source_files(root: Path) -> Iterator[tuple[str, Path]]:
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in _MODULE_SUFFIXES and "__pycache__" not in path.parts:
            yield path.relative_to(root).as_posix(), path


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


__all__ = [
    "CODE_DIR",
    "add_code_to_sys_path",
    "check_code",
    "code_dirs",
    "copy_code_paths",
    "describe_code",
    "top_level_modules",
]
