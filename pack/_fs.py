"""File-system helpers: atomic directory writes, safe relative paths, checksums and their verification."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Literal

from pack.errors import AlreadyExists, InvalidModel

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


def safe_relpath(rel: str) -> str:
    """Check that ``rel`` is a relative path that stays inside its root; return it normalised.

    Raises:
        InvalidModel: the path is absolute, empty, or climbs out with ``..``.
    """
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        raise InvalidModel(f"invalid relative path {rel!r}")
    posix = PurePosixPath(rel.replace("\\", "/"))
    if posix.is_absolute() or rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":"):
        raise InvalidModel(f"path {rel!r} must be relative to the model directory")
    if any(part == ".." for part in posix.parts):
        raise InvalidModel(f"path {rel!r} escapes the model directory")
    normal = str(posix)
    if normal in ("", "."):
        raise InvalidModel(f"invalid relative path {rel!r}")
    return normal


def safe_join(root: Path, rel: str) -> Path:
    """Join ``rel`` under ``root``, refusing anything (also via symlinks) that leaves ``root``."""
    path = root / safe_relpath(rel)
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


VerifyMode = Literal["cached", "always", "off"]
_Stamp = tuple[int, int, int, int, int]


class FileVerifier:
    """Checks directories against recorded ``{relative path: (sha256, size)}``, remembering what it hashed.

    Hashing reads every byte (about 1-2 GB/s per core). ``cached`` hashes each file once per process
    and again only when its size, mtime, ctime or inode changes (ctime cannot be set back by ordinary
    tools, so an edited file is always re-hashed); ``always`` hashes on every call; ``off`` checks only
    names and sizes.
    """

    def __init__(self, mode: VerifyMode = "cached") -> None:
        self.mode = mode
        self._hashed: dict[str, tuple[_Stamp, str]] = {}
        self._lock = threading.Lock()

    def verify(self, root: Path, expected: Mapping[str, tuple[str, int]], what: str) -> None:
        """Check that ``root`` holds exactly the ``expected`` files, with their sizes and (by mode) sha256.

        Raises:
            InvalidModel: a file is missing, added, or changed.
        """
        actual = {p.relative_to(root).as_posix(): p for p in iter_files(root)} if root.is_dir() else {}
        missing = sorted(set(expected) - set(actual))
        if missing:
            raise InvalidModel(f"{what}: registered files are missing: {', '.join(missing[:5])}")
        added = sorted(set(actual) - set(expected))
        if added:
            raise InvalidModel(f"{what}: files were added after registration: {', '.join(added[:5])}")
        for rel, (sha256, size) in expected.items():
            path = actual[rel]
            stat = path.stat()
            if stat.st_size != size:
                raise InvalidModel(f"{what}: {rel} changed after registration (size differs): tampered?")
            if self.mode == "off":
                continue
            stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)
            key = os.fspath(path)
            if self.mode == "cached":
                with self._lock:
                    if self._hashed.get(key) == (stamp, sha256):
                        continue
            if sha256_file(path) != sha256:
                raise InvalidModel(f"{what}: {rel} changed after registration (sha256 differs): tampered?")
            with self._lock:
                self._hashed[key] = (stamp, sha256)


__all__ = [
    "FileVerifier",
    "VerifyMode",
    "atomic_dir",
    "checksum_tree",
    "copy_into",
    "iter_files",
    "safe_join",
    "safe_relpath",
    "sha256_file",
    "tree_size",
]
