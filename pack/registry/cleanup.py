"""What killed registrations leave behind, found and removed (``pack gc``, and a sweep at registration).

A registration that dies (a killed process, a lost machine) leaves its version PENDING_REGISTRATION
forever, the files it had copied, and, in a local artifact root, a hidden temporary directory
``models/<name>/.v<N>-<id>.tmp-<id>`` beside where the version's files would have gone. A sweep:

* marks every version PENDING for longer than ``older_than`` seconds FAILED_REGISTRATION (only if it
  is still pending at that moment, so a registration finishing meanwhile is never touched) and removes
  its files and its temporary directories;
* removes the files left at the location of FAILED_REGISTRATION versions;
* removes temporary directories that no version still pending for less than ``older_than`` owns (a
  version deleted while pending, with ``pack models delete``, leaves such an orphan).

A registration that really runs longer than ``older_than`` is treated as dead: choose the threshold
above your longest upload. ``Registrar`` sweeps a model with ``STALE_AFTER`` (one hour) before its first
registration in a process and then at most once every ``SWEEP_EVERY`` seconds (a minute): what a sweep
removes has been dead for an hour, and sweeping before every registration cost a quarter of its time.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pack.names import clean_name
from pack.store import ModelVersion, ModelVersionStatus, RegistryStore
from pack.store.artifacts import ArtifactOpener

STALE_AFTER = 3600.0
SWEEP_EVERY = 60.0
MODELS_DIR = "models"
_TEMP = re.compile(r"^\.(?P<final>.+)\.tmp-[0-9a-f]+$")
_PAGE = 10_000


def model_dir(name: str) -> str:
    """Where a model's versions are stored, relative to the artifact root (``models/<name>``)."""
    return f"{MODELS_DIR}/{clean_name(name, replacement='_', strip='', max_length=80) or 'model'}"


@dataclass(frozen=True)
class Leftover:
    """One thing a sweep removes.

    Attributes:
        kind: ``"pending"`` (a version pending too long: marked failed, its files removed), ``"failed"``
            (files left at a failed version's location) or ``"temporary"`` (an orphaned temporary directory).
        location: the files' location (a URL or local path).
        age_seconds: how long ago the version was created, or the directory last changed.
        name, version: the version concerned (``temporary``: None).
    """

    kind: str
    location: str
    age_seconds: float
    name: str | None = None
    version: int | None = None


class Sweeper:
    """Finds and removes the leftovers of dead registrations in one store and its artifact root."""

    def __init__(
        self,
        store: RegistryStore,
        artifact_root: str,
        *,
        open_store: ArtifactOpener,
        clock: Callable[[], float] = time.time,
        every: float = SWEEP_EVERY,
    ) -> None:
        self.store = store
        self.artifact_root = artifact_root.rstrip("/")
        self.open_store = open_store
        self.clock = clock
        self.every = every
        self._swept: dict[str, float] = {}  # model -> time.monotonic() of its last sweep_due
        self._lock = threading.Lock()

    def find(self, older_than: float, *, model: str | None = None) -> list[Leftover]:
        """What a sweep would remove. ``model`` limits all but the pending versions (always every model's:
        one query) to that model, so a sweep before a registration stays cheap."""
        now = self.clock()
        # Temporary directories are listed before the pending versions are read: a registration creates
        # its version before its directory, so every directory listed here whose registration is still
        # running has its version among those read below (no running registration looks orphaned).
        temporaries = list(self._temporary_dirs(model))
        found: list[Leftover] = []
        owned: set[str] = set()  # locations of pending versions: their temporary directories are no orphans
        for version in self._versions(ModelVersionStatus.PENDING_REGISTRATION):
            age = now - version.creation_timestamp / 1000
            owned.add(str(version.storage_location))
            if age > older_than:  # dead: removed with its temporary directories
                location = version.storage_location or ""
                found.append(Leftover("pending", location, age, version.name, version.version))
        for version in self._versions(ModelVersionStatus.FAILED_REGISTRATION, model):
            if version.storage_location is not None and self._exists(version.storage_location):
                age = now - version.last_updated_timestamp / 1000
                found.append(Leftover("failed", version.storage_location, age, version.name, version.version))
        for temporary, final in temporaries:
            if final not in owned and temporary.is_dir():
                found.append(Leftover("temporary", str(temporary), now - temporary.stat().st_mtime))
        return found

    def sweep(self, older_than: float, *, model: str | None = None) -> list[Leftover]:
        """Remove what ``find`` lists (a version that finished meanwhile is left alone); return what was removed."""
        removed = []
        for leftover in self.find(older_than, model=model):
            if leftover.kind == "pending" and leftover.name is not None and leftover.version is not None:
                minutes = leftover.age_seconds / 60
                reason = f"abandoned: still pending after {minutes:.0f} minutes (removed by a registry sweep)"
                if not self.store.fail_model_version(leftover.name, leftover.version, reason):
                    continue  # it finished (or failed) since find(): its files are not leftovers
                for temporary in self._temporaries_of(leftover.location):
                    shutil.rmtree(temporary, ignore_errors=True)
            if leftover.kind == "temporary":
                shutil.rmtree(leftover.location, ignore_errors=True)
            elif leftover.location:
                self.open_store(leftover.location).delete()
            removed.append(leftover)
        return removed

    def sweep_due(self, older_than: float, *, model: str) -> list[Leftover]:
        """``sweep(older_than, model=model)`` unless this sweeper swept ``model`` less than ``every``
        seconds ago (then ``[]``): what a registration calls first."""
        now = time.monotonic()
        with self._lock:
            last = self._swept.get(model)
            if last is not None and now - last < self.every:
                return []
            self._swept[model] = now
        return self.sweep(older_than, model=model)

    def _versions(self, status: ModelVersionStatus, model: str | None = None) -> Iterator[ModelVersion]:
        query = f"status = '{status.value}'"
        if model is not None:
            query += " AND name = '" + model.replace("\\", "\\\\").replace("'", "\\'") + "'"
        token = None
        while True:
            page = self.store.search_model_versions(query, _PAGE, None, token)
            yield from page
            token = page.token
            if not token:
                return

    def _exists(self, location: str) -> bool:
        store = self.open_store(location)
        local = store.local_path()
        return local.exists() if local is not None else bool(store.ls())

    def _temporary_dirs(self, model: str | None) -> Iterator[tuple[Path, str]]:
        """Temporary directories under the (local) artifact root, with the location each was to become."""
        root = self.open_store(self.artifact_root).local_path()
        if root is None:
            return  # remote stores write in place: no temporary directories
        parents = [root / model_dir(model)] if model is not None else sorted((root / MODELS_DIR).glob("*"))
        for parent in parents:
            for entry in sorted(parent.glob(".*.tmp-*")) if parent.is_dir() else ():
                match = _TEMP.match(entry.name)
                if match is not None and entry.is_dir():
                    final = f"{self.artifact_root}/{entry.parent.relative_to(root).as_posix()}/{match['final']}"
                    yield entry, final

    def _temporaries_of(self, location: str) -> list[Path]:
        local = self.open_store(location).local_path() if location else None
        if local is None:
            return []
        return [p for p in local.parent.glob(f".{local.name}.tmp-*") if p.is_dir()]


__all__ = ["MODELS_DIR", "STALE_AFTER", "SWEEP_EVERY", "Leftover", "Sweeper", "model_dir"]
