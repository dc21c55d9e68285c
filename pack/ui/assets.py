"""The web UI's files, read once at start: each with its type and a gzip copy, all named under one
build hash (``/static/<hash>/js/main.js``), so a browser may keep them forever and a new pack
version is fetched anew. The hash covers every file, so the JavaScript modules' relative imports
stay inside one consistent build without a bundler or an import map.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
INDEX_FILE = Path(__file__).with_name("index.html")
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
}
_COMPRESSIBLE = (".js", ".mjs", ".css", ".svg", ".html")
_SERVED = tuple(_TYPES)  # licences and notes stay in the wheel, not on the web


@dataclass(frozen=True)
class Asset:
    """One file as served: its bytes, a gzip copy when that is smaller, and its content type."""

    body: bytes
    gzipped: bytes | None
    content_type: str


def _asset(body: bytes, suffix: str) -> Asset:
    packed = gzip.compress(body, 9, mtime=0) if suffix in _COMPRESSIBLE else None
    return Asset(body, packed if packed is not None and len(packed) < len(body) else None, _TYPES[suffix])


class Assets:
    """The static files under ``root`` and the page every UI address answers with."""

    def __init__(self, root: Path = STATIC_DIR, index: Path = INDEX_FILE) -> None:
        digest = hashlib.sha256()
        files: dict[str, Asset] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SERVED):
            rel = path.relative_to(root).as_posix()
            body = path.read_bytes()
            digest.update(rel.encode() + b"\0" + body + b"\0")
            files[rel] = _asset(body, path.suffix)
        self.version = digest.hexdigest()[:16]
        self.prefix = f"/static/{self.version}/"
        self.files = files
        page = index.read_text(encoding="utf-8").replace("{{static}}", self.prefix)
        self.index = _asset(page.encode(), ".html")

    def find(self, path: str) -> Asset | None:
        """The file at URL path ``path`` (``/static/<hash>/...``), or None (another build's or none)."""
        if not path.startswith(self.prefix):
            return None
        return self.files.get(path[len(self.prefix) :])


__all__ = ["STATIC_DIR", "Asset", "Assets"]
