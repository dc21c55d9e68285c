"""Registering a model directory as a new version: its files copied into the registry's artifact root
with the sha256 of every file recorded; PENDING_REGISTRATION meanwhile, READY only after every file is
stored, FAILED_REGISTRATION (and no files left behind) when the copy fails.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol

from pack.errors import AlreadyExists, InvalidInput
from pack.flavors.mlmodel import PYFUNC, MLModel
from pack.flavors.schema import Schema, TensorSpec
from pack.refs import MODELS, RUNS, ModelRef, RunArtifactRef
from pack.registry.cleanup import STALE_AFTER, Sweeper, model_dir
from pack.registry.resolution import VersionResolver
from pack.store import ModelVersion, RegistryStore
from pack.store.artifacts import ArtifactOpener, RunArtifacts
from pack.uris import resolve, scheme_of

logger = logging.getLogger(__name__)


class Registers(Protocol):
    """What the ``Registry`` registers through: ``Registrar`` here, ``RemoteRegistrar`` on a tracking server."""

    def acting_as(self, user: str) -> Registers: ...
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
    ) -> ModelVersion: ...


class Registrar:
    """Copies model directories into ``artifact_root`` and records them as versions in ``store``."""

    def __init__(
        self,
        store: RegistryStore,
        artifact_root: str,
        *,
        open_store: ArtifactOpener,
        resolver: VersionResolver,
        runs: RunArtifacts | None,
        user: str,
        fsync: bool = True,
        sweeper: Sweeper | None = None,
    ) -> None:
        self.store = store
        self.artifact_root = artifact_root.rstrip("/")
        self.open_store = open_store
        self.resolver = resolver
        self.runs = runs
        self.user = user
        self.fsync = fsync
        self.sweeper = sweeper

    def acting_as(self, user: str) -> Registrar:
        """The same registrar, recording ``user`` as who registers."""
        return Registrar(
            self.store,
            self.artifact_root,
            open_store=self.open_store,
            resolver=self.resolver,
            runs=self.runs,
            user=user,
            fsync=self.fsync,
            sweeper=self.sweeper,
        )

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
        """Register the model at ``source_uri`` (a path, ``file://``, ``runs:/``, ``models:/`` or an
        artifact-store URL) as a new version of ``name`` (created first when ``create_model``).

        ``files_at``: where the files are, when ``source_uri`` (what is recorded) names them otherwise
        (an MLflow 3 ``models:/m-<id>`` source); ``model_id``: that logged model.

        Raises:
            NotFound: no such model, or nothing at the source. InvalidModel: not a model directory.
        """
        with self._source_dir(files_at or source_uri) as (source, source_run_id):
            mlmodel = MLModel.load(source)  # bad input fails here, before anything is written
            self._sweep(name)
            if create_model:
                with suppress(AlreadyExists):
                    self.store.create_registered_model(name)
            base = model_dir(name)
            locations: dict[int, str] = {}

            def location(version: int) -> str:
                locations[version] = f"{base}/v{version}-{uuid.uuid4().hex[:8]}"
                return f"{self.artifact_root}/{locations[version]}"

            pending = self.store.create_model_version(
                name,
                source=_recorded_source(source_uri),
                storage_location=location,
                run_id=run_id if run_id is not None else source_run_id,
                tags=tags,
                run_link=run_link,
                description=description,
                user_id=self.user,
                model_id=model_id,
            )
            root = self.open_store(self.artifact_root)
            rel = locations[pending.version]
            flavors = [f for f in mlmodel.flavors if f != PYFUNC] + ([PYFUNC] if PYFUNC in mlmodel.flavors else [])
            try:
                files = root.put_tree(source, rel, fsync=self.fsync)
                return self.store.finish_model_version(
                    name, pending.version, files, flavors=flavors, signature=signature_summary(mlmodel)
                )
            except BaseException as exc:  # also when a sweep gave this registration up meanwhile
                self.store.fail_model_version(name, pending.version, f"{type(exc).__name__}: {exc}")
                root.delete(rel)
                raise

    def _sweep(self, name: str) -> None:
        """Clear what dead registrations left (pending over ``STALE_AFTER``) when a sweep of this model is
        due; never fails a registration."""
        if self.sweeper is None:
            return
        try:
            for leftover in self.sweeper.sweep_due(STALE_AFTER, model=name):
                logger.info("registry sweep removed %s %s", leftover.kind, leftover.location)
        except Exception:
            logger.warning("registry sweep failed; registering anyway", exc_info=True)

    @contextmanager
    def _source_dir(self, uri: str) -> Iterator[tuple[Path, str | None]]:
        """The local model directory of a source URI, and the run it came from (``runs:/`` only)."""
        scheme = scheme_of(uri)
        if scheme == MODELS:
            yield self.resolver.resolve_path(ModelRef.parse(uri)), None
        elif scheme == RUNS:
            if self.runs is None:
                raise InvalidInput("runs:/ URIs need a tracking store")
            ref = RunArtifactRef.parse(uri)
            yield self.runs.resolve_path(ref), ref.run_id
        elif scheme in ("", "file"):
            yield resolve(uri).path, None
        else:
            store = self.open_store(uri)
            local = store.local_path()
            if local is not None:
                yield local, None
                return
            with tempfile.TemporaryDirectory(prefix="pack-source-") as tmp:
                yield store.download("", Path(tmp) / "model"), None


def signature_summary(mlmodel: MLModel) -> str | None:
    """A one-line summary of a model's signature, e.g. ``10 inputs (double) -> 1 output (long)``."""
    signature = mlmodel.signature
    if signature is None or signature.inputs is None:
        return None
    return f"{_describe(signature.inputs, 'input')} -> {_describe(signature.outputs, 'output')}"


def _describe(schema: Schema | None, noun: str) -> str:
    if schema is None:
        return f"no {noun}s"
    types = sorted({spec.dtype if isinstance(spec, TensorSpec) else spec.type_name for spec in schema})
    count = len(schema)
    return f"{count} {noun}{'' if count == 1 else 's'} ({', '.join(types)})"


def _recorded_source(uri: str) -> str:
    if scheme_of(uri) == "":
        return str(Path(uri).expanduser().absolute())
    return uri


__all__ = ["Registers", "Registrar", "signature_summary"]
