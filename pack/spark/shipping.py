"""Getting a model directory to Spark's executors intact: a manifest, one archive, a checked unpack.

The driver reads every file of the model once, hashing it while it goes into one uncompressed tar
named by the manifest's digest (files the driver made, such as compiled trees, may join it); for a
registered version the manifest is the registry's own record (sha256 and size per file), so a file
changed since registration is refused there, at UDF creation, before anything loads it.
Spark copies the archive to each executor (``SparkContext.addFile``). An executor unpacks it once per
machine (only the manifest's files, atomically) and every Python worker checks the unpacked files
against the manifest before loading them: nothing missing, added or changed.

This module imports no pyspark: it works on paths.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pack._fs import iter_files, safe_relpath, sha256_file
from pack.errors import InvalidModel

_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileRecord:
    """One file of a model directory: its relative POSIX path, sha256 and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """Every file of a model directory, sorted by path; ``digest`` names the content as a whole."""

    files: tuple[FileRecord, ...]

    @classmethod
    def of(cls, records: Iterable[FileRecord]) -> Manifest:
        """A manifest of ``records`` (paths checked to stay inside the model directory).

        Raises:
            InvalidModel: a path is absolute, climbs out, or appears twice.
        """
        files = tuple(sorted(records, key=lambda record: record.path))
        for record in files:
            safe_relpath(record.path, allow_empty=False, error=InvalidModel)
        paths = [record.path for record in files]
        if len(set(paths)) != len(paths):
            raise InvalidModel("a model manifest lists the same file twice")
        return cls(files)

    @property
    def digest(self) -> str:
        """sha256 over every path, size and sha256."""
        text = "".join(f"{f.path}\0{f.size}\0{f.sha256}\n" for f in self.files)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def archive_name(self) -> str:
        """The archive's file name (unique per content, so Spark can hold several models)."""
        return f"pack-model-{self.digest[:24]}.tar"


class _HashingReader:
    """Reads a file for ``tarfile`` while hashing what passes through."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.hash.update(data)
        return data


class ModelArchive:
    """One model archive being written: ``with ModelArchive(root, expected, directory) as archive:``.

    Entering reads every file of ``root`` once, hashing it on its way into the tar; with
    ``expected`` (a registered version's record) every file must match it, so a tampered file is
    refused before anything loads it. Inside the block, ``add`` puts files made on the driver (e.g.
    compiled trees) beside the model's. Leaving the block without an error names the archive by its
    manifest (``path``, ``manifest``); rewriting the archive of an identical manifest is harmless (same
    name, same bytes, replaced atomically). An error leaves nothing behind.
    """

    def __init__(self, root: Path, expected: Manifest | None, directory: Path) -> None:
        self._root = root
        self._expected = expected
        self._directory = directory
        self._partial = directory / f".{uuid.uuid4().hex}.tar.partial"
        self._records: list[FileRecord] = []
        self._tar: tarfile.TarFile | None = None
        self._done: tuple[Path, Manifest] | None = None

    def __enter__(self) -> ModelArchive:
        root, what = self._root, str(self._root)
        paths = {path.relative_to(root).as_posix(): path for path in iter_files(root)}
        if self._expected is not None:
            _compare_names({f.path for f in self._expected.files}, set(paths), what)
        self._directory.mkdir(parents=True, exist_ok=True)
        self._tar = tarfile.open(self._partial, "w", format=tarfile.PAX_FORMAT)
        try:
            for rel, path in sorted(paths.items()):
                info = _info(rel, path.stat().st_size)
                with open(path, "rb") as handle:
                    reader = _HashingReader(handle)
                    self._tar.addfile(info, reader)  # type: ignore[arg-type]
                self._records.append(FileRecord(rel, reader.hash.hexdigest(), info.size))
            if self._expected is not None:
                _compare_contents(self._expected, Manifest.of(self._records), what)
        except BaseException:
            self._discard()
            raise
        return self

    def add(self, rel: str, data: bytes) -> None:
        """Add a file that is not the model's (it joins the manifest and is checked like the rest).

        Raises:
            InvalidModel: the path is not a safe relative path, or is taken.
        """
        if self._tar is None:
            raise RuntimeError("ModelArchive.add outside its with block")
        safe_relpath(rel, allow_empty=False, error=InvalidModel)
        if any(record.path == rel for record in self._records):
            raise InvalidModel(f"{self._root}: the archive already holds {rel!r}")
        self._tar.addfile(_info(rel, len(data)), io.BytesIO(data))
        self._records.append(FileRecord(rel, hashlib.sha256(data).hexdigest(), len(data)))

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if error is not None:
            self._discard()
            return
        assert self._tar is not None
        self._tar.close()
        try:
            manifest = Manifest.of(self._records)
            archive = self._directory / manifest.archive_name
            os.replace(self._partial, archive)
        finally:
            self._partial.unlink(missing_ok=True)
        self._done = (archive, manifest)

    @property
    def path(self) -> Path:
        """The finished archive."""
        return self._finished()[0]

    @property
    def manifest(self) -> Manifest:
        """Every file of the finished archive."""
        return self._finished()[1]

    def _finished(self) -> tuple[Path, Manifest]:
        if self._done is None:
            raise RuntimeError("the archive is not finished: read it after its with block")
        return self._done

    def _discard(self) -> None:
        if self._tar is not None:
            self._tar.close()
        self._partial.unlink(missing_ok=True)


def write_archive(root: Path, expected: Manifest | None, directory: Path) -> tuple[Path, Manifest]:
    """Pack ``root`` into ``directory/<archive name>`` (a ``ModelArchive`` with nothing added).

    Raises:
        InvalidModel: a file is missing, added or changed compared with ``expected``.
    """
    with ModelArchive(root, expected, directory) as archive:
        pass
    return archive.path, archive.manifest


def _info(rel: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(rel)
    info.size = size
    info.mode = 0o644
    return info


def unpack(archive: Path, manifest: Manifest, directory: Path) -> Path:
    """The model directory unpacked from ``archive`` under ``directory`` (once; later calls reuse it).

    Only the manifest's files are written; the directory appears atomically, so concurrent workers
    never load a half-written model. Check it with ``verify`` before loading.

    Raises:
        InvalidModel: the archive holds anything but the manifest's files, or misses one.
    """
    target = directory / manifest.digest[:24]
    if target.is_dir():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"
    wanted = {record.path: record for record in manifest.files}
    try:
        with tarfile.open(archive, "r:") as tar:
            for member in tar:
                record = wanted.pop(member.name, None)
                if record is None or not member.isreg():
                    raise InvalidModel(f"{archive.name}: unexpected entry {member.name!r}")
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - isreg() members always have data
                    raise InvalidModel(f"{archive.name}: cannot read {member.name!r}")
                dest = partial / safe_relpath(record.path, allow_empty=False, error=InvalidModel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with source, open(dest, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
        if wanted:
            raise InvalidModel(f"{archive.name}: missing {', '.join(sorted(wanted)[:5])}")
        try:
            os.rename(partial, target)
        except OSError:
            if not target.is_dir():
                raise
    except tarfile.TarError as exc:
        raise InvalidModel(f"{archive.name} is not a readable model archive: {exc}") from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # also when another worker renamed first
    return target


def verify(root: Path, manifest: Manifest) -> None:
    """Check that ``root`` holds exactly the manifest's files, byte for byte (sha256).

    Raises:
        InvalidModel: a file is missing, added or changed.
    """
    actual = {path.relative_to(root).as_posix(): path for path in iter_files(root)}
    _compare_names({f.path for f in manifest.files}, set(actual), str(root))
    for record in manifest.files:
        path = actual[record.path]
        if path.stat().st_size != record.size or sha256_file(path) != record.sha256:
            raise InvalidModel(f"{root}: {record.path} differs from the model's manifest: tampered?")


def _compare_names(expected: set[str], actual: set[str], what: str) -> None:
    missing = sorted(expected - actual)
    if missing:
        raise InvalidModel(f"{what}: registered files are missing: {', '.join(missing[:5])}")
    added = sorted(actual - expected)
    if added:
        raise InvalidModel(f"{what}: files were added after registration: {', '.join(added[:5])}")


def _compare_contents(expected: Manifest, actual: Manifest, what: str) -> None:
    changed: Sequence[str] = [want.path for want, got in zip(expected.files, actual.files, strict=True) if want != got]
    if changed:
        raise InvalidModel(f"{what}: {', '.join(changed[:5])} changed after registration (sha256 differs): tampered?")


__all__ = ["FileRecord", "Manifest", "ModelArchive", "unpack", "verify", "write_archive"]
