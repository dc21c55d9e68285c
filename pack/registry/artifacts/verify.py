"""Checking a registered version's files against the sha256 recorded at registration.

The hashing and its cache live in ``pack._fs.FileVerifier`` (serving verifies with it too, without the
registry); this adapter takes the registry's ``ModelVersionFile`` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pack._fs import FileVerifier
from pack.registry.entities import ModelVersionFile


class Verifier(FileVerifier):
    """Verifies directories against a registered version's file records (see ``FileVerifier``)."""

    def verify_files(self, root: Path, files: Sequence[ModelVersionFile], what: str) -> None:
        """Check ``root`` against ``files``.

        Raises:
            InvalidModel: a file is missing, added, or changed.
        """
        self.verify(root, {f.path: (f.sha256, f.size) for f in files}, what)


__all__ = ["Verifier"]
