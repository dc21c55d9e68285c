"""Resolving a ``ModelRef`` to the READY version it names and to a verified local copy of its files."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

from pack.checksums import Verifier
from pack.errors import NotFound, PackError
from pack.refs import ModelRef
from pack.store import ModelVersion, ModelVersionFile, ModelVersionStatus, RegistryStore
from pack.store.artifacts import ArtifactOpener, ArtifactStore


class VersionResolver:
    """Finds versions by reference and fetches their files (remote ones into ``cache_dir``), verified."""

    def __init__(
        self, store: RegistryStore, *, open_store: ArtifactOpener, verifier: Verifier, cache_dir: Path
    ) -> None:
        self.store = store
        self.open_store = open_store
        self.verifier = verifier
        self.cache_dir = cache_dir

    def resolve(self, ref: ModelRef) -> ModelVersion:
        """The READY version a reference points to.

        Raises:
            NotFound: no such model, version, alias, or no READY version in the stage.
        """
        if ref.alias is not None:
            found = self.store.get_model_version_by_alias(ref.name, ref.alias)
        elif ref.version is not None:
            found = self.store.get_model_version(ref.name, ref.version)
        else:
            found = self.store.get_highest_version(ref.name, ref.stage)
        if found.status != ModelVersionStatus.READY.value:
            raise NotFound(f"{ref}: version {found.version} of {ref.name!r} is {found.status}, not READY")
        return found

    def fetch(self, version: ModelVersion) -> tuple[Path, list[ModelVersionFile]]:
        """A local directory with the version's files, checked against the checksums recorded at
        registration, and those records.

        Raises:
            NotFound: the version has no stored files. InvalidModel: files missing, added or changed.
        """
        files = self.store.get_model_version_files(version.name, version.version)
        what = f"models:/{version.name}/{version.version}"
        if version.storage_location is None:
            raise NotFound(f"{what} has no stored files")
        artifacts = self.open_store(version.storage_location)
        local = artifacts.local_path()
        if local is None:
            local = self._cached_copy(artifacts)
        self.verifier.verify(local, files, what)
        return local, files

    def resolve_path(self, ref: ModelRef) -> Path:
        """A local directory with the verified files of the version a reference points to.

        Raises:
            NotFound: as ``resolve``. InvalidModel: files missing, added or changed since registration.
        """
        return self.fetch(self.resolve(ref))[0]

    def _cached_copy(self, artifacts: ArtifactStore) -> Path:
        key = hashlib.sha256(artifacts.url.encode()).hexdigest()[:32]
        dest = self.cache_dir / "models" / key
        if not dest.is_dir():
            tmp = dest.with_name(f".{key}.tmp-{uuid.uuid4().hex[:8]}")
            try:
                artifacts.download("", tmp)
                tmp.replace(dest)
            except FileExistsError:
                pass  # another process finished the same download first
            except OSError as exc:
                if not dest.is_dir():
                    raise PackError(f"cannot cache {artifacts.url}: {exc}") from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return dest


__all__ = ["VersionResolver"]
