"""What a ``torch.export`` archive (``.pt2``) holds, and whether loading it would unpickle anything.

``torch.export.load`` reads most of an archive as JSON and raw tensor bytes, but it unpickles some
records with ``weights_only=False`` (tensor subclasses, custom and opaque objects, legacy weight
files, and the sample inputs when the restricted unpickler refuses them). A crafted archive can so
run code. ``pickled_records`` inspects an archive without loading it: a record is harmless when
it is JSON, a short text marker, a raw tensor payload that the archive's own configs declare as not
pickled, or a pickle that torch's restricted ``weights_only`` unpickler accepts and that references
nothing outside torch. Everything else is reported, and the flavor warns before loading such a file.
"""

from __future__ import annotations

import io
import json
import pickletools
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_TEXT_RECORDS = {"archive_format", "archive_version", "byteorder", ".data/version", ".data/serialization_id"}
_TEXT_LIMIT = 128
_PAYLOAD_DIRS = ("data/weights/", "data/constants/")
_RAW_PREFIXES = ("weight_", "tensor_")
_SAFE_GLOBAL_MODULES = ("torch", "collections")


def pickled_records(path: Path) -> list[str]:
    """Records of the ``.pt2`` archive at ``path`` that loading it would unpickle unsafely.

    An unreadable or non-zip file is reported as a whole (``[path.name]``).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return [path.name]
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        names = [_strip_root(info.filename) for info in infos]
        if "archive_format" not in names:
            return [path.name]  # the legacy (pre-archive) format always unpickles
        raw = _raw_payloads(archive, infos)
        unsafe = []
        for info, name in zip(infos, names, strict=True):
            if info.filename in raw or _harmless(name, archive.read(info)):
                continue
            unsafe.append(name)
        return unsafe


def _strip_root(filename: str) -> str:
    """Archive records sit under one root folder named after the file; drop it."""
    root, _, rest = filename.partition("/")
    return rest if rest else root


def _raw_payloads(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> set[str]:
    """Full record names that the payload configs declare as raw tensor bytes (never unpickled)."""
    raw: set[str] = set()
    pickled: set[str] = set()
    for info in infos:
        name = _strip_root(info.filename)
        if not (name.startswith(_PAYLOAD_DIRS) and name.endswith("_config.json")):
            continue
        config = _json(archive.read(info))
        entries = config.get("config") if isinstance(config, dict) else None
        if not isinstance(entries, dict):
            continue
        folder = info.filename.rsplit("/", 1)[0]
        for entry in entries.values():
            path_name = entry.get("path_name") if isinstance(entry, dict) else None
            if not isinstance(path_name, str) or "/" in path_name:
                continue
            record = f"{folder}/{path_name}"
            if entry.get("use_pickle") is False and path_name.startswith(_RAW_PREFIXES):
                raw.add(record)
            else:
                pickled.add(record)
    return raw - pickled


def _harmless(name: str, content: bytes) -> bool:
    if name.endswith(".json"):
        return _json(content) is not None
    if name in _TEXT_RECORDS:
        return len(content) <= _TEXT_LIMIT and content.isascii()
    return _restricted_pickle(content)


def _json(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _restricted_pickle(content: bytes) -> bool:
    """A ``torch.save`` zip whose pickles name only torch globals and load under ``weights_only``."""
    import torch  # lazy: optional dependency

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as inner:
            streams = [inner.read(n) for n in inner.namelist() if n.rsplit("/", 1)[-1].endswith(".pkl")]
        if not streams or any(not _torch_globals_only(stream) for stream in streams):
            return False
        torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    except Exception:
        return False
    return True


def _torch_globals_only(stream: bytes) -> bool:
    return all(ref.split(".", 1)[0] in _SAFE_GLOBAL_MODULES for ref in _globals(stream))


def _globals(stream: bytes) -> Iterator[str]:
    """``module.name`` of every global a pickle stream references (fails on unresolvable ones).

    Only the last pushed values matter for ``STACK_GLOBAL``; other opcodes push a placeholder.
    """
    stack: list[str | None] = []
    memo: dict[Any, str | None] = {}
    for opcode, arg, _ in pickletools.genops(stream):
        name = opcode.name
        if name == "GLOBAL":
            yield str(arg).replace(" ", ".", 1)
            stack.append(None)
        elif name == "STACK_GLOBAL":
            if len(stack) < 2 or stack[-1] is None or stack[-2] is None:
                raise ValueError("STACK_GLOBAL operands are not strings")
            yield f"{stack[-2]}.{stack[-1]}"
            stack[-2:] = [None]
        elif name in _STRING_OPCODES:
            stack.append(str(arg))
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1] if stack else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1] if stack else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(arg))
        else:
            stack.append(None)


_STRING_OPCODES = {
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
    "UNICODE",
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
}

__all__ = ["pickled_records"]
