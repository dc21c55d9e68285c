"""The ArtifactStore interface: one directory of files in some storage (a folder, a bucket prefix).

Implementer checklist (a plugin registers a class under the ``pack.artifact_stores`` entry-point
group, named by the URL scheme it serves; it is constructed as ``cls(url)``):

1. ``url``: the directory's URL, as given.
2. ``put_tree(source, dest, fsync=...)`` copies a local directory to ``dest`` (relative), hashing
   while copying, and returns the sha256 and size of every file. It must not leave a partial tree
   visible at ``dest`` as complete; the registry marks a version READY only after it returns.
3. ``put_file(source, dest)`` copies one local file to ``dest`` (relative, may overwrite).
4. ``ls(path)`` lists one level (``FileInfo`` with paths relative to the store's URL).
5. ``local_path(path)`` is the local file-system path when the storage is local, else None.
6. ``download(path, dest)`` copies a file or directory to the local path ``dest``.
7. ``delete(path)`` removes a file or directory (missing is not an error).
8. ``child(path)`` is the store for a sub-directory.
Relative paths are POSIX, checked with ``pack._fs.safe_relpath`` (the one path guard).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pack.store.entities import FileInfo, ModelVersionFile


@runtime_checkable
class ArtifactStore(Protocol):
    """A directory of artifact files; see the module docstring for the contract."""

    url: str

    def put_tree(self, source: Path, dest: str = "", *, fsync: bool = True) -> list[ModelVersionFile]: ...

    def put_file(self, source: Path, dest: str) -> None: ...

    def ls(self, path: str = "") -> list[FileInfo]: ...

    def local_path(self, path: str = "") -> Path | None: ...

    def download(self, path: str, dest: Path) -> Path: ...

    def delete(self, path: str = "") -> None: ...

    def child(self, path: str) -> ArtifactStore: ...


__all__ = ["ArtifactStore"]
