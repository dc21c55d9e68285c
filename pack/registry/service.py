"""``Registry``: the one place where registry lifecycle policy lives; every registry call goes through it.

Policy (name rules: ``pack.registry.names``):
- Registering copies the model directory into the registry's artifact root, recording the sha256 of
  every file (``pack.registry.registration``); only READY versions can be resolved or promoted.
- Only READY versions can change stage or get an alias.
- ``archive_existing_versions`` (Staging/Production only) archives the other versions in the target
  stage; without it two versions may share a stage (MLflow's semantics). ``models:/m/<Stage>``
  resolves to the highest version in that stage, ``latest`` to the highest READY version.
- Resolving ``models:/`` verifies the files against their checksums (``pack.registry.resolution``).
- Stage and alias changes are recorded with who (``user``) and when.
- What dead registrations leave (versions PENDING for too long, partial files, temporary
  directories) is collected by ``collect_garbage`` and swept before registrations, at most once a
  minute per model (``pack.registry.cleanup``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pack.errors import InvalidInput
from pack.refs import ModelRef, Stage
from pack.registry.cleanup import Leftover, Sweeper
from pack.registry.names import check_alias, check_model_name, check_version
from pack.registry.registration import Registers
from pack.registry.resolution import VersionResolver
from pack.store import (
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    PagedList,
    PromotionEvent,
    RegisteredModel,
    RegistryStore,
)
from pack.store.artifacts import ArtifactOpener
from pack.uris import ResolvedModel


class Registry:
    """Lifecycle operations and queries on a registry store and its artifact root."""

    def __init__(
        self,
        store: RegistryStore,
        *,
        registrar: Registers,
        resolver: VersionResolver,
        open_store: ArtifactOpener,
        user: str,
        sweeper: Sweeper | None = None,
    ) -> None:
        self.store = store
        self.registrar = registrar
        self.resolver = resolver
        self.open_store = open_store
        self.user = user
        self.sweeper = sweeper

    def acting_as(self, user: str) -> Registry:
        """The same registry, recording ``user`` for changes (a server acting for an authenticated user)."""
        if user == self.user:
            return self
        return Registry(
            self.store,
            registrar=self.registrar.acting_as(user),
            resolver=self.resolver,
            open_store=self.open_store,
            user=user,
            sweeper=self.sweeper,
        )

    # registered models ------------------------------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: Mapping[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create a model after checking its name.

        Raises:
            InvalidInput: a bad name. AlreadyExists: the name is taken.
        """
        return self.store.create_registered_model(check_model_name(name), _str_tags(tags), description)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model after checking the new name; versions, aliases and history follow.

        Raises:
            InvalidInput: a bad name. NotFound: no such model. AlreadyExists: the name is taken.
        """
        return self.store.rename_registered_model(name, check_model_name(new_name))

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a model's description."""
        return self.store.update_registered_model(name, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A model with tags, aliases and the latest version per stage."""
        return self.store.get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching ``name``/``tags.<key>`` clauses; ``.token`` of the result pages on."""
        return self.store.search_registered_models(filter_string, max_results, order_by, page_token)

    def get_latest_versions(self, name: str, stages: Sequence[str | Stage] | None = None) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when None or empty).

        Raises:
            InvalidInput: an unknown stage. NotFound: no such model.
        """
        return self.store.get_latest_versions(name, [Stage.parse(s) for s in stages or ()])

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a model tag."""
        self.store.set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a model tag."""
        self.store.delete_registered_model_tag(name, key)

    # registering ------------------------------------------------------------------------------------

    def register_model(
        self,
        model_uri: str,
        name: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        source: str | None = None,
    ) -> ModelVersion:
        """Register ``model_uri`` as a new version of ``name``, creating the model if needed.

        ``source`` is recorded as the version's source instead of ``model_uri``, for files that come
        from a scratch directory (e.g. a conversion of ``models:/name/3``).

        Raises:
            InvalidInput: a bad name. NotFound: nothing at ``model_uri``. InvalidModel: not a model.
        """
        check_model_name(name)
        return self.registrar.register(
            name,
            source or str(model_uri),
            run_id=run_id,
            tags=_str_tags(tags),
            description=description,
            create_model=True,
            files_at=str(model_uri) if source else None,
        )

    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        files_at: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as a new version of the existing model ``name``.

        ``files_at`` is where the files are when ``source`` names them otherwise (MLflow 3's
        ``models:/m-<id>``, with ``model_id`` that logged model).

        Raises:
            NotFound: no such model, or nothing at ``source``.
            InvalidModel: ``source`` is not a model directory.
        """
        return self.registrar.register(
            name,
            str(source),
            run_id=run_id,
            tags=_str_tags(tags),
            run_link=run_link,
            description=description,
            model_id=model_id,
            files_at=files_at,
        )

    # versions ---------------------------------------------------------------------------------------

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version."""
        return self.store.get_model_version(name, check_version(version))

    def get_model_version_files(self, name: str, version: int | str) -> list[ModelVersionFile]:
        """The files of a version with the sha256 and size recorded at registration."""
        return self.store.get_model_version_files(name, check_version(version))

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the registry keeps the version's files."""
        return self.store.get_model_version_download_uri(name, check_version(version))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points to."""
        return self.store.get_model_version_by_alias(name, alias)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching e.g. ``name='m' AND tags.k='v'``; ``.token`` of the result pages on."""
        return self.store.search_model_versions(filter_string, max_results, order_by, page_token)

    def update_model_version(self, name: str, version: int | str, description: str | None) -> ModelVersion:
        """Set a version's description."""
        return self.store.update_model_version(name, check_version(version), description)

    def set_model_version_tag(
        self, name: str, version: int | str | None, key: str | None, value: Any, stage: str | None = None
    ) -> None:
        """Set a version tag (the version may be given by ``stage``: its highest version)."""
        self.store.set_model_version_tag(name, self._version_or_stage(name, version, stage), _key(key), str(value))

    def delete_model_version_tag(
        self, name: str, version: int | str | None, key: str | None, stage: str | None = None
    ) -> None:
        """Delete a version tag (the version may be given by ``stage``)."""
        self.store.delete_model_version_tag(name, self._version_or_stage(name, version, stage), _key(key))

    # resolving --------------------------------------------------------------------------------------

    def resolve(self, ref: ModelRef) -> ModelVersion:
        """The READY version a reference points to.

        Raises:
            NotFound: no such model, version, alias, or no READY version in the stage.
        """
        return self.resolver.resolve(ref)

    def fetch(self, version: ModelVersion) -> tuple[Path, list[ModelVersionFile]]:
        """A local directory with the version's files, verified, and the checksums they were checked
        against (for processes that load the files later and verify them again).

        Raises:
            NotFound: the version has no stored files. InvalidModel: files missing, added or changed.
        """
        return self.resolver.fetch(version)

    def resolve_path(self, ref: ModelRef) -> Path:
        """A local directory with the verified files of the version a reference points to.

        Raises:
            NotFound: as ``resolve``. InvalidModel: files missing, added or changed since registration.
        """
        return self.resolver.resolve_path(ref)

    def resolve_model(self, ref: ModelRef) -> ResolvedModel:
        """The version a reference points to, resolved once, with a local verified copy of exactly
        that version's files and their recorded checksums.

        Raises:
            NotFound: as ``resolve``. InvalidModel: files missing, added or changed since registration.
        """
        version = self.resolver.resolve(ref)
        path, files = self.resolver.fetch(version)
        return ResolvedModel(
            path=path,
            uri=str(ref),
            name=version.name,
            version=version.version,
            run_id=version.run_id,
            files=tuple(files),
        )

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
            self.open_store(location).delete()

    def delete_registered_model(self, name: str) -> None:
        """Delete a model, its versions and their files.

        Raises:
            NotFound: no such model.
        """
        for location in self.store.delete_registered_model(name):
            self.open_store(location).delete()

    def collect_garbage(self, older_than: float, *, dry_run: bool = True) -> list[Leftover]:
        """The leftovers of dead registrations (``pack.registry.cleanup``): listed, or removed when not
        ``dry_run``. Versions pending for more than ``older_than`` seconds count as dead."""
        if self.sweeper is None:
            return []
        if older_than < 0:
            raise InvalidInput(f"the age threshold must not be negative, got {older_than}")
        return self.sweeper.find(older_than) if dry_run else self.sweeper.sweep(older_than)

    def _ready(self, name: str, version: int) -> None:
        found = self.store.get_model_version(name, version)
        if found.status != ModelVersionStatus.READY.value:
            raise InvalidInput(f"version {version} of {name!r} is {found.status}; only READY versions can be promoted")

    def _version_or_stage(self, name: str, version: int | str | None, stage: str | None) -> int:
        if version is not None:
            return check_version(version)
        if stage is None:
            raise InvalidInput("pass version or stage")
        return self.store.get_highest_version(name, Stage.parse(stage)).version


def _key(key: str | None) -> str:
    if not key:
        raise InvalidInput("a tag key is required")
    return key


def _str_tags(tags: Mapping[str, object] | None) -> dict[str, str] | None:
    return None if tags is None else {str(k): str(v) for k, v in tags.items()}


__all__ = ["Registry"]
