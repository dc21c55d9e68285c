"""File-system helpers: atomic directory writes, the one relative-path guard, checksums."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from pack.errors import AlreadyExists, InvalidInput, InvalidModel, PackError

_CHUNK = 1 << 20


@contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory that becomes ``dest`` only if the block succeeds.

    The temporary directory sits beside ``dest`` (same file system), so the final step is one
    ``os.replace``. On any exception the temporary directory is removed and ``dest`` is untouched.

    Raises:
        AlreadyExists: ``dest`` exists and is not an empty directory.
    """
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise AlreadyExists(f"{dest} already exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        yield tmp
        if dest.is_dir():
            dest.rmdir()  # empty: checked above
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def safe_relpath(path: str, *, allow_empty: bool = True, error: type[PackError] = InvalidInput) -> str:
    """The one path guard: ``path`` normalised, if it is relative and stays inside its root.

    Used for artifact paths a caller gives (by default: ``""`` and ``"."`` mean the root and return
    ``""``; a bad path is ``InvalidInput``) and, through ``safe_join``, for files an MLmodel names
    (``allow_empty=False, error=InvalidModel``).

    Raises:
        error: the path is not a string, is empty (unless allowed), absolute or a drive path,
            contains NUL or a backslash, or climbs out with ``..``.
    """
    if not isinstance(path, str) or "\x00" in path or "\\" in path:
        raise error(f"invalid relative path {path!r}")
    posix = PurePosixPath(path)
    if posix.is_absolute() or (len(path) > 1 and path[1] == ":"):
        raise error(f"path {path!r} must be relative")
    if any(part == ".." for part in posix.parts):
        raise error(f"path {path!r} escapes its root: it must not contain '..'")
    normal = posix.as_posix()
    if normal == ".":
        if not allow_empty:
            raise error(f"invalid relative path {path!r}: empty")
        return ""
    return normal


def safe_join(root: Path, rel: str) -> Path:
    """Join ``rel`` under ``root``, refusing anything (also via symlinks) that leaves ``root``."""
    path = root / safe_relpath(rel, allow_empty=False, error=InvalidModel)
    resolved_root = root.resolve()
    resolved = path.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise InvalidModel(f"path {rel!r} resolves outside the model directory")
    return path


def sha256_file(path: Path) -> str:
    """Hex sha256 of one file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def iter_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root``, in a stable (sorted) order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath, name)


def checksum_tree(root: Path) -> dict[str, str]:
    """``{posix relative path: sha256}`` of every file under ``root``."""
    return {path.relative_to(root).as_posix(): sha256_file(path) for path in iter_files(root)}


def tree_size(root: Path) -> int:
    """Total size in bytes of the files under ``root``."""
    return sum(path.stat().st_size for path in iter_files(root))


def copy_into(src: Path, dest: Path) -> None:
    """Copy a file or a directory tree to ``dest`` (which must not exist)."""
    if src.is_dir():
        shutil.copytree(src, dest, symlinks=False)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


__all__ = [
    "atomic_dir",
    "checksum_tree",
    "copy_into",
    "iter_files",
    "safe_join",
    "safe_relpath",
    "sha256_file",
    "tree_size",
]
