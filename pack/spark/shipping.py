"""Getting a model directory to Spark's executors intact: a manifest, one archive, a checked unpack.

The driver reads every file of the model once, hashing it while it goes into one uncompressed tar
named by the manifest's digest; for a registered version the manifest is the registry's own record
(sha256 and size per file), so a file changed since registration is refused there, at UDF creation.
Spark copies the archive to each executor (``SparkContext.addFile``). An executor unpacks it once per
machine (only the manifest's files, atomically) and every Python worker checks the unpacked files
against the manifest before loading them: nothing missing, added or changed.

This module imports no pyspark: it works on paths.
"""

from __future__ import annotations

import hashlib
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


def write_archive(root: Path, expected: Manifest | None, directory: Path) -> tuple[Path, Manifest]:
    """Pack ``root`` into ``directory/<archive name>``, reading each file once.

    With ``expected`` (a registered version's record), every file must match it; without, the
    manifest is made from what was read. Rewriting the archive of an identical manifest is harmless
    (same name, same bytes, replaced atomically).

    Raises:
        InvalidModel: a file is missing, added or changed compared with ``expected``.
    """
    what = str(root)
    paths = {path.relative_to(root).as_posix(): path for path in iter_files(root)}
    if expected is not None:
        _compare_names({f.path for f in expected.files}, set(paths), what)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{uuid.uuid4().hex}.tar.partial"
    records = []
    try:
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            for rel, path in sorted(paths.items()):
                info = tarfile.TarInfo(rel)
                info.size = path.stat().st_size
                info.mode = 0o644
                with open(path, "rb") as handle:
                    reader = _HashingReader(handle)
                    tar.addfile(info, reader)  # type: ignore[arg-type]
                records.append(FileRecord(rel, reader.hash.hexdigest(), info.size))
        manifest = Manifest.of(records)
        if expected is not None:
            _compare_contents(expected, manifest, what)
        archive = directory / manifest.archive_name
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return archive, manifest


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


__all__ = ["FileRecord", "Manifest", "unpack", "verify", "write_archive"]
