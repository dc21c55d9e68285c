"""Register, resolve and promote: the one place where registry lifecycle policy lives.

Policy (name rules: ``pack.registry.names``):
- Registering copies the model directory into the registry's artifact root, recording the sha256 of
  every file; the version is PENDING_REGISTRATION meanwhile and READY only after every file is
  stored. A failed copy marks it FAILED_REGISTRATION; a killed writer leaves it PENDING, never READY.
- Only READY versions can change stage, get an alias, or be resolved.
- ``archive_existing_versions`` (Staging/Production only) archives the other versions in the target
  stage; without it two versions may share a stage (MLflow's semantics). ``models:/m/<Stage>``
  resolves to the highest version in that stage, ``latest`` to the highest READY version.
- Resolving ``models:/`` verifies the files against their checksums (``RegistrySettings.verify``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

from pack.errors import AlreadyExists, InvalidInput, NotFound, PackError
from pack.flavors.mlmodel import PYFUNC, MLModel
from pack.flavors.schema import Schema, TensorSpec
from pack.registry.artifacts import ArtifactStore, Verifier, open_store
from pack.registry.entities import ModelVersion, ModelVersionStatus, PagedList, PromotionEvent, Stage
from pack.registry.names import check_alias, check_model_name, check_version
from pack.registry.refs import MODELS, RUNS, ModelRef, RunArtifactRef
from pack.registry.runs import RunArtifacts
from pack.registry.store import RegistryStore
from pack.uris import resolve_model_uri, scheme_of

_UNSAFE_PATH = re.compile(r"[^A-Za-z0-9._-]+")


class Registry:
    """Lifecycle operations on a registry store and its artifact root."""

    def __init__(
        self,
        store: RegistryStore,
        artifact_root: str,
        *,
        runs: RunArtifacts | None,
        user: str,
        verifier: Verifier,
        cache_dir: Path,
        fsync: bool = True,
    ) -> None:
        self.store = store
        self.artifact_root = artifact_root.rstrip("/")
        self.runs = runs
        self.user = user
        self.verifier = verifier
        self.cache_dir = cache_dir
        self.fsync = fsync

    # names ------------------------------------------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> None:
        """Create a model after checking its name.

        Raises:
            InvalidInput: a bad name. AlreadyExists: the name is taken.
        """
        self.store.create_registered_model(check_model_name(name), _str_tags(tags), description)

    def rename_registered_model(self, name: str, new_name: str) -> None:
        """Rename a model after checking the new name.

        Raises:
            InvalidInput: a bad name. NotFound: no such model. AlreadyExists: the name is taken.
        """
        self.store.rename_registered_model(name, check_model_name(new_name))

    # registering ------------------------------------------------------------------------------------

    def register_model(
        self,
        model_uri: str,
        name: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
        source: str | None = None,
    ) -> ModelVersion:
        """Register ``model_uri`` as a new version of ``name``, creating the model if needed.

        ``source`` is recorded as the version's source instead of ``model_uri``, for files that come
        from a scratch directory (e.g. a conversion of ``models:/name/3``).
        """
        check_model_name(name)
        with self._source_dir(model_uri) as local:
            mlmodel = MLModel.load(local)  # bad input fails here, before anything is written
            with suppress(AlreadyExists):
                self.store.create_registered_model(name)
            return self._register(
                name,
                source or model_uri,
                local,
                mlmodel,
                run_id=run_id,
                tags=tags,
                run_link=None,
                description=description,
            )

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as a new version of the existing model ``name``.

        Raises:
            NotFound: no such model, or nothing at ``source``.
            InvalidModel: ``source`` is not a model directory.
        """
        with self._source_dir(source) as local:
            mlmodel = MLModel.load(local)
            return self._register(
                name,
                source,
                local,
                mlmodel,
                run_id=run_id,
                tags=tags,
                run_link=run_link,
                description=description,
            )

    def _register(
        self,
        name: str,
        source_uri: str,
        source: Path,
        mlmodel: MLModel,
        *,
        run_id: str | None,
        tags: Mapping[str, str] | None,
        run_link: str | None,
        description: str | None,
    ) -> ModelVersion:
        if run_id is None and scheme_of(source_uri) == RUNS:
            run_id = RunArtifactRef.parse(source_uri).run_id
        base = f"models/{_UNSAFE_PATH.sub('_', name)[:80] or 'model'}"
        locations: dict[int, str] = {}

        def location(version: int) -> str:
            locations[version] = f"{base}/v{version}-{uuid.uuid4().hex[:8]}"
            return f"{self.artifact_root}/{locations[version]}"

        pending = self.store.create_model_version(
            name,
            source=_recorded_source(source_uri),
            storage_location=location,
            run_id=run_id,
            tags=_str_tags(tags),
            run_link=run_link,
            description=description,
            user_id=self.user,
        )
        root = open_store(self.artifact_root)
        rel = locations[pending.version]
        try:
            files = root.put_tree(source, rel, fsync=self.fsync)
        except BaseException as exc:
            self.store.fail_model_version(name, pending.version, f"{type(exc).__name__}: {exc}")
            root.delete(rel)
            raise
        flavors = [f for f in mlmodel.flavors if f != PYFUNC] + ([PYFUNC] if PYFUNC in mlmodel.flavors else [])
        return self.store.finish_model_version(
            name, pending.version, files, flavors=flavors, signature=signature_summary(mlmodel)
        )

    @contextmanager
    def _source_dir(self, uri: str) -> Iterator[Path]:
        text = str(uri)
        scheme = scheme_of(text)
        if scheme == MODELS:
            yield self.resolve_path(ModelRef.parse(text))
        elif scheme == RUNS:
            if self.runs is None:
                raise InvalidInput("runs:/ URIs need a tracking store")
            yield self.runs.resolve_path(RunArtifactRef.parse(text))
        elif scheme in ("", "file"):
            yield resolve_model_uri(text)
        else:
            with tempfile.TemporaryDirectory(prefix="pack-source-") as tmp:
                yield open_store(text).download("", Path(tmp) / "model")

    # resolving --------------------------------------------------------------------------------------

    def resolve(self, ref: ModelRef | str) -> ModelVersion:
        """The READY version a reference points to.

        Raises:
            NotFound: no such model, version, alias, or no READY version in the stage.
            InvalidInput: a malformed URI.
        """
        if isinstance(ref, str):
            ref = ModelRef.parse(ref)
        if ref.alias is not None:
            found = self.store.get_model_version_by_alias(ref.name, ref.alias)
        elif ref.version is not None:
            found = self.store.get_model_version(ref.name, ref.version)
        else:
            found = self.store.get_highest_version(ref.name, ref.stage)
        if found.status != ModelVersionStatus.READY.value:
            raise NotFound(f"{ref}: version {found.version} of {ref.name!r} is {found.status}, not READY")
        return found

    def resolve_path(self, ref: ModelRef | str) -> Path:
        """A local directory with the verified files of the version a reference points to.

        Raises:
            NotFound: as ``resolve``. InvalidModel: files missing, added or changed since registration.
        """
        version = self.resolve(ref)
        files = self.store.get_model_version_files(version.name, version.version)
        what = f"models:/{version.name}/{version.version}"
        if version.storage_location is None:
            raise NotFound(f"{what} has no stored files")
        artifacts = open_store(version.storage_location)
        local = artifacts.local_path()
        if local is None:
            local = self._cached_copy(artifacts)
        self.verifier.verify(local, files, what)
        return local

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

    # promoting --------------------------------------------------------------------------------------

    def transition_stage(
        self, name: str, version: int | str, stage: str | Stage, *, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a READY version to a stage (recorded with who and when).

        Raises:
            InvalidInput: unknown stage, bad version, a version that is not READY, or
                ``archive_existing_versions`` with a stage other than Staging/Production.
            NotFound: no such model or version.
        """
        target = Stage.parse(stage)
        number = check_version(version)
        if archive_existing_versions and target not in (Stage.STAGING, Stage.PRODUCTION):
            raise InvalidInput(f"archive_existing_versions applies to Staging and Production, not {target.value}")
        self._ready(name, number)
        return self.store.transition_model_version_stage(
            name, number, target, archive_existing_versions=archive_existing_versions, user=self.user
        )

    def set_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point an alias at a READY version (recorded).

        Raises:
            InvalidInput: a bad alias or version, or a version that is not READY.
            NotFound: no such model or version.
        """
        check_alias(alias)
        number = check_version(version)
        self._ready(name, number)
        self.store.set_registered_model_alias(name, alias, number, user=self.user)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias (recorded).

        Raises:
            NotFound: no such model or alias.
        """
        self.store.delete_registered_model_alias(name, alias, user=self.user)

    def history(
        self,
        name: str,
        version: int | str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[PromotionEvent]:
        """Stage and alias changes, newest first (see ``PromotionEvent``)."""
        number = None if version is None else check_version(version)
        return self.store.get_history(name, number, max_results=max_results, page_token=page_token)

    # deleting ---------------------------------------------------------------------------------------

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version and its files (its aliases go too; recorded).

        Raises:
            NotFound: no such model or version.
        """
        location = self.store.delete_model_version(name, check_version(version), user=self.user)
        if location is not None:
            open_store(location).delete()

    def delete_registered_model(self, name: str) -> None:
        """Delete a model, its versions and their files.

        Raises:
            NotFound: no such model.
        """
        for location in self.store.delete_registered_model(name):
            open_store(location).delete()

    def _ready(self, name: str, version: int) -> None:
        found = self.store.get_model_version(name, version)
        if found.status != ModelVersionStatus.READY.value:
            raise InvalidInput(f"version {version} of {name!r} is {found.status}; only READY versions can be promoted")


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


def _str_tags(tags: Mapping[str, object] | None) -> dict[str, str] | None:
    return None if tags is None else {str(k): str(v) for k, v in tags.items()}


__all__ = ["Registry", "signature_summary"]
