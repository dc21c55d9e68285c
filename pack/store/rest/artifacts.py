"""``ProxiedArtifactStore``: an ``ArtifactStore`` on a tracking server's artifact proxy (``mlflow-artifacts``).

A run's ``artifact_uri`` on a server with served artifacts is ``mlflow-artifacts:/<exp>/<run>/artifacts``;
its files are at ``<server>/api/2.0/mlflow-artifacts/artifacts/<path>``: ``PUT`` uploads a raw body,
``GET`` downloads, ``GET ...artifacts?path=<dir>`` lists one level (names relative to ``<dir>``) and
``DELETE`` removes. Files stream both ways in 1 MiB chunks (never whole in memory), are hashed while
they are uploaded, and several are moved at once. Every path the server names is checked before a
local file is written (a hostile server cannot write outside the destination).
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlparse

from pack._fs import iter_files, safe_join, safe_relpath
from pack.errors import InvalidInput, InvalidModel, NotFound
from pack.store.entities import FileInfo, ModelVersionFile
from pack.store.rest import wire
from pack.store.rest.connection import RestConnection

SCHEME = "mlflow-artifacts"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
_CHUNK = 1 << 20
_PARALLEL = 8
T = TypeVar("T")


def proxied_path(uri: str, connection: RestConnection) -> str:
    """The path of an ``mlflow-artifacts:`` URI on the server of ``connection``.

    Raises:
        InvalidInput: not such a URI, or one naming another server.
    """
    parsed = urlparse(uri)
    if parsed.scheme != SCHEME:
        raise InvalidInput(f"{uri!r} is not an {SCHEME}: URI")
    if parsed.netloc and parsed.netloc != urlparse(connection.base_url).netloc:
        raise InvalidInput(f"{uri!r} names another server than the tracking server {connection.base_url}")
    return safe_relpath(parsed.path.lstrip("/"))


class ProxiedArtifactStore:
    """The directory ``root`` of a tracking server's artifact proxy (see the module docstring)."""

    def __init__(self, connection: RestConnection, root: str) -> None:
        self.connection = connection
        self.root = safe_relpath(root)
        self.url = f"{connection.base_url}{PROXY}/{quote(self.root)}".rstrip("/")

    def child(self, path: str) -> ProxiedArtifactStore:
        """The store for a sub-directory."""
        return ProxiedArtifactStore(self.connection, self._path(path))

    def local_path(self, path: str = "") -> Path | None:
        """Always None: the files are on the server."""
        return None

    def put_tree(self, source: Path, dest: str = "", *, fsync: bool = True) -> list[ModelVersionFile]:
        """Upload the directory ``source`` under ``dest``; each file's sha256 and size as sent.

        Raises:
            NotFound: no directory at ``source``. InvalidModel: a link inside it leads outside.
        """
        if not source.is_dir():
            raise NotFound(f"no directory at {source}")
        root = source.resolve()
        files = []
        for path in iter_files(source):
            if root not in path.resolve().parents:
                raise InvalidModel(f"{path} is a link to outside the directory")
            files.append(path.relative_to(source).as_posix())
        base = safe_relpath(dest)
        return self._map(lambda rel: self._upload(source / rel, f"{base}/{rel}" if base else rel, rel), files)

    def put_file(self, source: Path, dest: str) -> None:
        """Upload one local file to ``dest`` (replacing it)."""
        self._upload(source, dest, safe_relpath(dest))

    def ls(self, path: str = "") -> list[FileInfo]:
        """One level of ``path``: files and directories relative to this store (a file lists itself)."""
        rel = safe_relpath(path)
        found = []
        for item in self.connection.get(PROXY, {"path": self._path(rel)}).get("files") or ():
            info = wire.file_info_of(item)
            name = safe_relpath(info.path)
            if not name or ".tmp-" in name.rsplit("/", 1)[-1]:
                continue
            found.append(FileInfo(f"{rel}/{name}" if rel else name, info.is_dir, info.file_size))
        if not found and rel:
            parent, _, name = rel.rpartition("/")
            found = [f for f in self.ls(parent) if f.path == rel and not f.is_dir]
        return sorted(found, key=lambda info: info.path)

    def download(self, path: str, dest: Path) -> Path:
        """Copy ``path`` (file or directory) to the local path ``dest``, streaming each file.

        Raises:
            NotFound: nothing at ``path``.
        """
        rel = safe_relpath(path)
        files = self._walk(rel)
        if files is None:  # a single file
            self._fetch(rel, dest)
            return dest
        dest.mkdir(parents=True, exist_ok=True)
        prefix = f"{rel}/" if rel else ""
        self._map(lambda name: self._fetch(name, safe_join(dest, name[len(prefix) :])), files)
        return dest

    def delete(self, path: str = "") -> None:
        """Remove ``path`` (file or directory) on the server; nothing there is fine."""
        with suppress(NotFound):
            self.connection.call("DELETE", self._file_url(path), idempotent=True)

    # plumbing ----------------------------------------------------------------------------------------

    def _path(self, rel: str) -> str:
        rel = safe_relpath(rel)
        return f"{self.root}/{rel}" if self.root and rel else self.root or rel

    def _file_url(self, rel: str) -> str:
        return f"{PROXY}/{quote(self._path(rel))}"

    def _upload(self, source: Path, dest: str, recorded: str) -> ModelVersionFile:
        size = source.stat().st_size
        digest: list[hashlib._Hash] = []

        def body() -> Iterator[bytes]:
            digest[:] = [hashlib.sha256()]
            with open(source, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest[0].update(chunk)
                    yield chunk

        content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        self.connection.put_stream(self._file_url(dest), body, size, content_type)
        return ModelVersionFile(path=recorded, sha256=digest[0].hexdigest(), size=size)

    def _walk(self, rel: str) -> list[str] | None:
        """Every file under ``rel`` (paths relative to this store), None when ``rel`` is a file.

        Raises:
            NotFound: nothing at ``rel``.
        """
        entries = self.ls(rel)
        if rel and len(entries) == 1 and entries[0].path == rel and not entries[0].is_dir:
            return None
        if not entries:
            if rel:
                raise NotFound(f"no artifact {rel!r} in {self.url}")
            return []
        files: list[str] = []
        for entry in entries:
            if entry.is_dir:
                files += self._walk(entry.path) or []
            else:
                files.append(entry.path)
        return files

    def _fetch(self, rel: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            with self.connection.stream(self._file_url(rel)) as response, open(tmp, "wb") as out:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _map(work: Callable[[str], T], items: list[str]) -> list[T]:
        if len(items) <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(_PARALLEL, len(items)), thread_name_prefix="pack-artifacts") as pool:
            return list(pool.map(work, items))


__all__ = ["PROXY", "SCHEME", "ProxiedArtifactStore", "proxied_path"]
