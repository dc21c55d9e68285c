"""Deterministic output: the same inputs give the same bytes, with nothing from the building machine.

YAML and JSON are written with sorted keys; tarballs have sorted entries, a fixed mtime, owner root
and normalised modes, and a gzip header without a name or time; copied trees get the fixed mtime too.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import yaml

# 1980-01-01T00:00:00Z: the earliest time a zip (wheel) can hold; used for every file written here.
FIXED_MTIME = 315532800

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(document: Any) -> str:
    """One YAML document, keys sorted, block style."""
    text: str = yaml.dump(document, Dumper=_Dumper, default_flow_style=False, sort_keys=True)
    return text


def dump_json(document: Any) -> bytes:
    """JSON with sorted keys, two-space indents and a final newline."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def write_file(path: Path, content: str | bytes, *, executable: bool = False) -> None:
    """Write ``content`` to ``path`` (parents created) with a fixed mtime and a normalised mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    path.chmod(0o755 if executable else 0o644)
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def copy_tree(src: Path, dest: Path) -> None:
    """Copy the regular files of ``src`` to ``dest`` (contents only, fixed mtimes, normalised modes)."""
    for file in _sorted_files(src):
        target = dest / file.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        target.chmod(0o755 if os.access(file, os.X_OK) else 0o644)
    normalise_tree(dest)


def normalise_tree(root: Path) -> None:
    """Fixed mtime for everything under ``root``; mode 0755 for directories and executables, else 0644."""
    for dirpath, _, filenames in os.walk(root, topdown=False):
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o755 if os.access(path, os.X_OK) else 0o644)
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))
        os.chmod(dirpath, 0o755)
        os.utime(dirpath, (FIXED_MTIME, FIXED_MTIME))


def write_tar_gz(src: Path, dest: Path, *, extra: Mapping[str, bytes] | None = None) -> None:
    """Write the files of ``src`` (plus ``extra`` name -> bytes) as a reproducible ``.tar.gz``.

    Entries sit at the archive's root (``./`` prefix-free, as SageMaker expects), sorted, owned by
    0:0 with empty owner names, mode 0644 (0755 for executables and directories), mtime fixed.
    """
    entries: dict[str, Path | bytes] = {f.relative_to(src).as_posix(): f for f in _sorted_files(src)}
    entries.update(extra or {})
    directories = sorted({parent for name in entries for parent in _parents(name)})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in directories:
            info = _tar_info(directory, tarfile.DIRTYPE, 0o755)
            tar.addfile(info)
        for name in sorted(entries):
            content = entries[name]
            if isinstance(content, Path):
                executable = os.access(content, os.X_OK)
                data = content.read_bytes()
            else:
                executable = False
                data = content
            info = _tar_info(name, tarfile.REGTYPE, 0o755 if executable else 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue())
    os.utime(dest, (FIXED_MTIME, FIXED_MTIME))


def _tar_info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _sorted_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        files.extend(Path(dirpath, name) for name in sorted(filenames))
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


__all__ = [
    "FIXED_MTIME",
    "copy_tree",
    "dump_json",
    "dump_yaml",
    "normalise_tree",
    "write_file",
    "write_tar_gz",
]
