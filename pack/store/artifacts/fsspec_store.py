"""The artifact store for local folders and every fsspec URL (``s3://``, ``gs://``, ``memory://``...).

Local trees are written into a temporary sibling directory and renamed into place, then (optionally) every
file and directory is fsynced at once, so the file system commits them in one journal commit: a power loss
before ``put_tree`` returns may leave a partial tree, which nothing has recorded yet (the registry's version
is still pending, and a sweep removes it). Remote trees are uploaded file by file (object stores have no
rename) and become visible to the registry only when it records them. Files are hashed while they are copied,
so each byte is read once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from fsspec.core import url_to_fs

from pack._fs import atomic_dir, iter_files, safe_relpath
from pack.errors import InvalidInput, InvalidModel, NotFound, RegistryError
from pack.store.entities import FileInfo, ModelVersionFile
from pack.uris import scheme_of

_CHUNK = 1 << 20
_DRIVERS = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}


class FsspecArtifactStore:
    """An ``ArtifactStore`` on any fsspec file system (see ``pack.store.artifacts.base``)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") or "/"
        try:
            self.fs, self.root = url_to_fs(self.url)
        except ImportError:
            scheme = scheme_of(self.url)
            driver = _DRIVERS.get(scheme, f"the fsspec driver for {scheme}://")
            raise RegistryError(f"artifact location {url!r} needs {driver}: pip install {driver}") from None
        except ValueError as exc:
            raise InvalidInput(f"unsupported artifact location {url!r}: {exc}") from None
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.is_local = "file" in protocols or "local" in protocols

    def child(self, path: str) -> FsspecArtifactStore:
        """The store for a sub-directory."""
        rel = safe_relpath(path)
        return FsspecArtifactStore(f"{self.url}/{rel}" if rel else self.url)

    def local_path(self, path: str = "") -> Path | None:
        """The local path of ``path`` (None for remote storage)."""
        if not self.is_local:
            return None
        rel = safe_relpath(path)
        return Path(self.root, rel) if rel else Path(self.root)

    def put_tree(self, source: Path, dest: str = "", *, fsync: bool = True) -> list[ModelVersionFile]:
        """Copy the directory ``source`` to ``dest``, returning each file's sha256 and size.

        Raises:
            InvalidModel: a symlink inside ``source`` points outside it.
            AlreadyExists: ``dest`` exists (local stores).
        """
        files = _source_files(source)
        if self.is_local:
            return self._put_local_tree(source, files, Path(self.local_path(dest) or self.root), fsync)
        target = self._path(dest)
        manifest = []
        for rel in files:
            with self.fs.open(f"{target}/{rel}", "wb") as out:
                manifest.append(_copy_hashing(source / rel, out, rel))
        return manifest

    def put_file(self, source: Path, dest: str) -> None:
        """Copy one local file to ``dest`` (replacing it)."""
        target = self._path(dest)
        if self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            tmp = f"{target}.tmp-{uuid.uuid4().hex[:8]}"
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        else:
            self.fs.put_file(str(source), target)

    def ls(self, path: str = "") -> list[FileInfo]:
        """One level of ``path``: files and directories relative to this store."""
        target = self._path(path)
        if not self.fs.exists(target):
            return []
        if self.fs.isfile(target):
            return [
                FileInfo(
                    path=safe_relpath(path),
                    is_dir=False,
                    file_size=int(self.fs.size(target)),
                )
            ]
        result = []
        base = self.root.rstrip("/")
        for entry in self.fs.ls(target, detail=True):
            name = str(entry["name"]).rstrip("/")
            rel = name[len(base) :].lstrip("/")
            if not rel or rel == safe_relpath(path) or ".tmp-" in rel.rsplit("/", 1)[-1]:
                continue
            is_dir = entry.get("type") == "directory"
            result.append(FileInfo(path=rel, is_dir=is_dir, file_size=None if is_dir else int(entry.get("size") or 0)))
        return sorted(result, key=lambda info: info.path)

    def download(self, path: str, dest: Path) -> Path:
        """Copy ``path`` (file or directory) to the local path ``dest``.

        Raises:
            NotFound: nothing at ``path``.
        """
        target = self._path(path)
        if not self.fs.exists(target):
            raise NotFound(f"no artifact {path!r} in {self.url}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self.fs.isdir(target):
            self.fs.get(f"{target}/", str(dest), recursive=True)
        else:
            self.fs.get_file(target, str(dest))
        return dest

    def delete(self, path: str = "") -> None:
        """Remove ``path`` (file or directory); nothing there is fine."""
        target = self._path(path)
        try:
            if self.fs.exists(target):
                self.fs.rm(target, recursive=True)
        except OSError as exc:
            raise RegistryError(f"cannot delete {target}: {exc}") from exc

    def open(self, path: str, mode: str = "rb") -> Any:
        """A binary file object of ``path`` (``rb`` or ``wb``; writing creates parent directories).

        Raises:
            NotFound: reading a file that does not exist.
        """
        target = self._path(path)
        if mode == "rb":
            if not self.fs.isfile(target):
                raise NotFound(f"no artifact file {path!r} in {self.url}")
        elif self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        return self.fs.open(target, mode)

    def size(self, path: str) -> int | None:
        """The size of the file at ``path``, or None when it is not a file."""
        target = self._path(path)
        return int(self.fs.size(target)) if self.fs.isfile(target) else None

    def move(self, source: str, dest: str) -> None:
        """Rename ``source`` to ``dest`` (atomic on local storage; replaces ``dest``)."""
        if self.is_local:
            os.replace(self._path(source), self._path(dest))
        else:
            self.fs.mv(self._path(source), self._path(dest))

    def _path(self, rel: str) -> str:
        rel = safe_relpath(rel)
        return f"{self.root.rstrip('/')}/{rel}" if rel else self.root

    def _put_local_tree(self, source: Path, files: list[str], target: Path, fsync: bool) -> list[ModelVersionFile]:
        manifest = []
        with atomic_dir(target) as tmp:
            for parent in sorted({(tmp / rel).parent for rel in files} - {tmp}):
                parent.mkdir(parents=True, exist_ok=True)
            for rel in files:
                # created read-only (registered files never change); this descriptor may still write
                descriptor = os.open(tmp / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
                with open(descriptor, "wb") as out:
                    manifest.append(_copy_hashing(source / rel, out, rel))
        if fsync:  # after the rename: one round of fsyncs (one journal commit) instead of two
            _fsync_all([target / rel for rel in files] + [Path(d) for d, _, _ in os.walk(target)] + [target.parent])
        return manifest


def _source_files(source: Path) -> list[str]:
    if not source.is_dir():
        raise NotFound(f"no model directory at {source}")
    root = source.resolve()
    files = []
    for path in iter_files(source):  # os.walk descends into no linked directory: only a link can lead out
        if path.is_symlink() and root not in path.resolve().parents:
            raise InvalidModel(f"{path} is a link to outside the model directory")
        files.append(path.relative_to(source).as_posix())
    return files


def _copy_hashing(source: Path, out: Any, rel: str) -> ModelVersionFile:
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return ModelVersionFile(path=rel, sha256=digest.hexdigest(), size=size)


@cache
def _fsync_pool() -> ThreadPoolExecutor:
    """Threads kept for fsync (starting a pool per registration costs more than the fsyncs)."""
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="pack-fsync")


def _fsync_all(paths: list[Path]) -> None:
    """fsync files and directories concurrently: the file system commits them together (one journal
    commit instead of one per file), which is several times faster than one after the other."""
    if len(paths) == 1:
        _fsync(paths[0])
        return
    list(_fsync_pool().map(_fsync, paths))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["FsspecArtifactStore"]
