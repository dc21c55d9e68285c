"""File checksums as recorded at registration, and checking a directory against them.

Anything that receives a model directory with its recorded checksums (the registry resolving
``models:/``, each serving worker) verifies it with a ``Verifier``.

Cost: hashing reads every byte (about 1-2 GB/s per core). ``cached`` (the default) hashes each file
once per process and re-hashes only when its size, mtime, ctime or inode changes; ctime cannot be
set back by ordinary tools, so an edited file is always re-hashed. ``always`` hashes on every
resolution; ``off`` checks only names and sizes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pack._fs import iter_files, sha256_file
from pack.errors import InvalidModel

VerifyMode = Literal["cached", "always", "off"]
"""``cached``: hash once per process, again when a file's stat changes; ``always``; ``off``: sizes only."""


@dataclass(frozen=True)
class FileChecksum:
    """One file of a model directory as recorded: POSIX path relative to the directory, sha256, size."""

    path: str
    sha256: str
    size: int


_Stamp = tuple[int, int, int, int, int]


class Verifier:
    """Verifies directories against manifests, remembering what it has already hashed."""

    def __init__(self, mode: VerifyMode = "cached") -> None:
        self.mode = mode
        self._hashed: dict[str, tuple[_Stamp, str]] = {}
        self._lock = threading.Lock()

    def verify(self, root: Path, files: Sequence[FileChecksum], what: str) -> None:
        """Check that ``root`` holds exactly ``files`` with their sizes and (by mode) sha256.

        Raises:
            InvalidModel: a file is missing, added, or changed.
        """
        expected = {f.path: f for f in files}
        actual = {p.relative_to(root).as_posix(): p for p in iter_files(root)} if root.is_dir() else {}
        missing = sorted(set(expected) - set(actual))
        if missing:
            raise InvalidModel(f"{what}: registered files are missing: {', '.join(missing[:5])}")
        added = sorted(set(actual) - set(expected))
        if added:
            raise InvalidModel(f"{what}: files were added after registration: {', '.join(added[:5])}")
        for rel, record in expected.items():
            path = actual[rel]
            stat = path.stat()
            if stat.st_size != record.size:
                raise InvalidModel(f"{what}: {rel} changed after registration (size differs): tampered?")
            if self.mode == "off":
                continue
            stamp = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)
            key = os.fspath(path)
            if self.mode == "cached":
                with self._lock:
                    if self._hashed.get(key) == (stamp, record.sha256):
                        continue
            if sha256_file(path) != record.sha256:
                raise InvalidModel(f"{what}: {rel} changed after registration (sha256 differs): tampered?")
            with self._lock:
                self._hashed[key] = (stamp, record.sha256)


__all__ = ["FileChecksum", "Verifier", "VerifyMode"]
