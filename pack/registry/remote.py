"""Registering and resolving versions held by a tracking server (``pack server`` or ``mlflow server``).

Registering sends the server a source it can reach, and the server keeps the files (``pack server``
copies and checksums them before it answers READY):

- ``runs:/<run>/<path>``: as is, when the run holds a model there; else the newest logged model of
  that name the run produced (MLflow 3's ``log_model`` keeps models there), as ``models:/m-<id>``.
- ``models:/<name>/<version|stage|@alias|latest>``: the exact version it means, ``models:/<name>/<n>``.
- A local directory: checked, uploaded into a new logged model of the run's experiment (or the
  default one), then registered from it.
- Anything else (``mlflow-artifacts:/``, ``models:/m-<id>``, ``s3://``...): as is.

Resolving downloads a version's files into the local cache once, through the server, and checks them
against the sha256 the server recorded at registration before every use. A server that records none
(``mlflow server``) gets trust on first use instead: the hashes of the first download are kept beside
the cached copy and checked from then on.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

import orjson

from pack._fs import iter_files, sha256_file
from pack.checksums import Verifier
from pack.errors import AlreadyExists, InvalidInput, InvalidModel, NotFound, RegistryError
from pack.flavors.mlmodel import MLModel
from pack.refs import MODELS, RUNS, ModelRef, RunArtifactRef
from pack.registry.resolution import VersionResolver
from pack.store import LoggedModelStatus, ModelVersion, ModelVersionFile, ModelVersionStatus
from pack.store.artifacts import ArtifactOpener, ArtifactStore
from pack.store.rest import RestRegistryStore, RestTrackingStore
from pack.store.rest.logged_models import logged_model_uri
from pack.uris import resolve, scheme_of

_LOGGED_MODEL = "models:/m-"


class RemoteVersionResolver(VersionResolver):
    """A ``VersionResolver`` for a tracking server's registry (see the module docstring)."""

    def __init__(
        self, store: RestRegistryStore, *, open_store: ArtifactOpener, verifier: Verifier, cache_dir: Path
    ) -> None:
        super().__init__(store, open_store=open_store, verifier=verifier, cache_dir=cache_dir)
        self.remote = store

    def fetch(self, version: ModelVersion) -> tuple[Path, list[ModelVersionFile]]:
        """A verified local copy of the version's files, and the checksums it was checked against.

        Raises:
            NotFound: no such version. InvalidModel: the files differ from what was recorded.
        """
        what = f"models:/{version.name}/{version.version}"
        artifacts = self.open_store(self.remote.get_model_version_download_uri(version.name, version.version))
        recorded = self.remote.recorded_files(version.name, version.version)
        local = self._cached_copy(artifacts)
        if recorded is None:
            first = _first_seen(local)
            self.verifier.verify(local, first, what)
            return local, first
        try:
            self.verifier.verify(local, recorded, what)
        except InvalidModel:  # a damaged cached copy: fetch it again, then it must match
            shutil.rmtree(local, ignore_errors=True)
            local = self._cached_copy(artifacts)
            self.verifier.verify(local, recorded, what)
        return local, recorded


def _first_seen(local: Path) -> list[ModelVersionFile]:
    """The checksums taken when ``local`` was first downloaded (taken now, the first time)."""
    manifest = local.with_name(f"{local.name}.sha256.json")
    if manifest.is_file():
        return [ModelVersionFile(**item) for item in orjson.loads(manifest.read_bytes())]
    files = [
        ModelVersionFile(path=p.relative_to(local).as_posix(), sha256=sha256_file(p), size=p.stat().st_size)
        for p in iter_files(local)
    ]
    tmp = manifest.with_name(f".{manifest.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.write_bytes(orjson.dumps([{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files]))
    tmp.replace(manifest)
    return files


class RemoteRegistrar:
    """Registers versions on a tracking server (see the module docstring)."""

    def __init__(
        self,
        store: RestRegistryStore,
        *,
        tracking: RestTrackingStore,
        resolver: VersionResolver,
        open_store: ArtifactOpener,
        poll: float = 0.5,
        timeout: float = 300.0,
    ) -> None:
        self.store = store
        self.tracking = tracking
        self.resolver = resolver
        self.open_store = open_store
        self.poll = poll
        self.timeout = timeout

    def acting_as(self, user: str) -> RemoteRegistrar:
        """This registrar: the server records who registers from the credentials the client sends."""
        return self

    def register(
        self,
        name: str,
        source_uri: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        create_model: bool = False,
        model_id: str | None = None,
        files_at: str | None = None,
    ) -> ModelVersion:
        """Register ``source_uri`` as a new version of ``name`` on the server; the READY version.
        ``model_id`` names the logged model the version comes from (else taken from a ``models:/m-<id>``
        source); ``files_at`` is the server's own option and refused here.

        Raises:
            NotFound: no such model, run or source. InvalidModel: a local source is not a model.
            InvalidInput: ``files_at`` is given. RegistryError: the server failed the registration.
        """
        if files_at is not None:
            raise InvalidInput("files_at names files on the server itself; register the source instead")
        scheme = scheme_of(source_uri)
        local = resolve(source_uri).path if scheme in ("", "file") else None
        if local is not None:
            MLModel.load(local)  # not a model: refused before anything is created
        if create_model:
            with suppress(AlreadyExists):
                self.store.create_registered_model(name)
        else:
            self.store.get_registered_model(name)  # NotFound before anything is uploaded
        if local is not None:
            source, source_run = self._upload(local, name, run_id), run_id
        elif scheme == RUNS:
            source, source_run = self._run_source(RunArtifactRef.parse(source_uri))
        elif scheme == MODELS and not source_uri.startswith(_LOGGED_MODEL):
            found = self.resolver.resolve(ModelRef.parse(source_uri))
            source, source_run = f"models:/{found.name}/{found.version}", None
        else:
            source, source_run = source_uri, None
        created = self.store.create_model_version(
            name,
            source=source,
            run_id=run_id if run_id is not None else source_run,
            tags=tags,
            run_link=run_link,
            description=description,
            model_id=model_id,
        )
        return self._await_ready(created)

    def _run_source(self, ref: RunArtifactRef) -> tuple[str, str]:
        run = self.tracking.get_run(ref.run_id)
        mlmodel = f"{ref.path}/MLmodel" if ref.path else "MLmodel"
        if any(f.path == mlmodel for f in self.open_store(run.info.artifact_uri).ls(ref.path)):
            return str(ref), ref.run_id
        if ref.path and "'" not in ref.path:  # not expressible in the filter language, and never logged so
            found = self.tracking.search_logged_models(
                [run.info.experiment_id],
                f"source_run_id = '{ref.run_id}' AND name = '{ref.path}'",
                max_results=1,
                order_by=["creation_timestamp DESC"],
            )
            if found:
                return logged_model_uri(found[0]), ref.run_id
        raise NotFound(f"run {ref.run_id} has no model at {ref.path!r}")

    def _upload(self, local: Path, name: str, run_id: str | None) -> str:
        experiment = (
            self.tracking.get_run(run_id).info.experiment_id if run_id else self.tracking.default_experiment_id()
        )
        logged = self.tracking.create_logged_model(experiment, name, source_run_id=run_id)
        files: ArtifactStore = self.open_store(logged.artifact_location)
        try:
            files.put_tree(local, fsync=False)
        except BaseException:
            with suppress(Exception):
                self.tracking.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
            raise
        self.tracking.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
        return logged_model_uri(logged)

    def _await_ready(self, version: ModelVersion) -> ModelVersion:
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        while version.status == ModelVersionStatus.PENDING_REGISTRATION.value and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            version = self.store.get_model_version(version.name, version.version)
        if version.status != ModelVersionStatus.READY.value:
            why = f": {version.status_message}" if version.status_message else ""
            raise RegistryError(f"version {version.version} of {version.name!r} is {version.status}{why}")
        return version


__all__ = ["RemoteRegistrar", "RemoteVersionResolver"]
