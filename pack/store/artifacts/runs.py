"""A run's artifacts: where they live and how ``runs:/<run_id>/<path>`` becomes a local path."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from pack.errors import NotFound
from pack.refs import RunArtifactRef
from pack.store.artifacts.base import ArtifactStore
from pack.store.protocols import TrackingStore


class RunArtifacts:
    """Artifact access for runs of one tracking store; remote files are downloaded to ``cache_dir``."""

    def __init__(self, store: TrackingStore, open_store: Callable[[str], ArtifactStore], cache_dir: Path) -> None:
        self.store = store
        self.open_store = open_store
        self.cache_dir = cache_dir

    def artifact_store(self, run_id: str) -> ArtifactStore:
        """The artifact store at the run's artifact root.

        Raises:
            NotFound: no such run.
        """
        return self.open_store(self.store.get_run(run_id).info.artifact_uri)

    def resolve_path(self, ref: RunArtifactRef) -> Path:
        """A local path for a run artifact (downloaded afresh when the storage is remote).

        Raises:
            NotFound: no such run or artifact.
        """
        artifacts = self.artifact_store(ref.run_id)
        local = artifacts.local_path(ref.path)
        if local is not None:
            if not local.exists():
                raise NotFound(f"run {ref.run_id} has no artifact {ref.path!r}")
            return local.absolute()
        key = hashlib.sha256(f"{artifacts.url}/{ref.path}".encode()).hexdigest()[:24]
        dest = self.cache_dir / "runs" / ref.run_id / key
        tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            artifacts.download(ref.path, tmp / "data")
            if dest.exists():
                shutil.rmtree(dest)
            tmp.replace(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest / "data"


__all__ = ["RunArtifacts"]
