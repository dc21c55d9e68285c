"""``SqlRegistryStore``: the ``RegistryStore`` Protocol on SQL, over its registered models and versions.

Persistence only: what is *allowed* (names, stages, READY-only promotion) is decided in
``pack.registry.service``. Each method is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pack.store.entities import ModelVersion, ModelVersionFile, PagedList, PromotionEvent, RegisteredModel, Stage
from pack.store.sql.database import Database
from pack.store.sql.models import SqlRegisteredModels
from pack.store.sql.versions import SqlModelVersions


class SqlRegistryStore:
    """Implements ``pack.store.RegistryStore`` (MLflow's method names) with ``models`` and ``versions``."""

    def __init__(self, db: Database) -> None:
        self.models = SqlRegisteredModels(db)
        self.versions = SqlModelVersions(db)

    # registered models

    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """See ``RegistryStore.create_registered_model``."""
        return self.models.create(name, tags, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """See ``RegistryStore.get_registered_model``."""
        return self.models.get(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """See ``RegistryStore.search_registered_models``."""
        return self.models.search(filter_string, max_results, order_by, page_token)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """See ``RegistryStore.rename_registered_model``."""
        return self.models.rename(name, new_name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """See ``RegistryStore.update_registered_model``."""
        return self.models.update(name, description)

    def delete_registered_model(self, name: str) -> list[str]:
        """See ``RegistryStore.delete_registered_model``."""
        return self.models.delete(name)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """See ``RegistryStore.set_registered_model_tag``."""
        self.models.set_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """See ``RegistryStore.delete_registered_model_tag``."""
        self.models.delete_tag(name, key)

    def get_latest_versions(self, name: str, stages: Sequence[Stage] | None = None) -> list[ModelVersion]:
        """See ``RegistryStore.get_latest_versions``."""
        return self.models.latest_versions(name, stages)

    def set_registered_model_alias(self, name: str, alias: str, version: int, *, user: str) -> None:
        """See ``RegistryStore.set_registered_model_alias``."""
        self.models.set_alias(name, alias, version, user=user)

    def delete_registered_model_alias(self, name: str, alias: str, *, user: str) -> None:
        """See ``RegistryStore.delete_registered_model_alias``."""
        self.models.delete_alias(name, alias, user=user)

    def get_history(
        self, name: str, version: int | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> PagedList[PromotionEvent]:
        """See ``RegistryStore.get_history``."""
        return self.models.history(name, version, max_results, page_token)

    # versions

    def create_model_version(
        self,
        name: str,
        *,
        source: str | None,
        storage_location: Callable[[int], str],
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """See ``RegistryStore.create_model_version``."""
        return self.versions.create(
            name,
            source=source,
            storage_location=storage_location,
            run_id=run_id,
            tags=tags,
            run_link=run_link,
            description=description,
            user_id=user_id,
            model_id=model_id,
        )

    def finish_model_version(
        self,
        name: str,
        version: int,
        files: Sequence[ModelVersionFile],
        *,
        flavors: Sequence[str] = (),
        signature: str | None = None,
    ) -> ModelVersion:
        """See ``RegistryStore.finish_model_version``."""
        return self.versions.finish(name, version, files, flavors=flavors, signature=signature)

    def fail_model_version(self, name: str, version: int, message: str) -> bool:
        """See ``RegistryStore.fail_model_version``."""
        return self.versions.fail(name, version, message)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """See ``RegistryStore.get_model_version``."""
        return self.versions.get(name, version)

    def get_model_version_files(self, name: str, version: int) -> list[ModelVersionFile]:
        """See ``RegistryStore.get_model_version_files``."""
        return self.versions.files(name, version)

    def get_model_version_download_uri(self, name: str, version: int) -> str:
        """See ``RegistryStore.get_model_version_download_uri``: where the registry keeps the files."""
        found = self.versions.get(name, version)
        return str(found.storage_location or found.source)

    def update_model_version(self, name: str, version: int, description: str | None) -> ModelVersion:
        """See ``RegistryStore.update_model_version``."""
        return self.versions.update(name, version, description)

    def transition_model_version_stage(
        self, name: str, version: int, stage: Stage, *, archive_existing_versions: bool, user: str
    ) -> ModelVersion:
        """See ``RegistryStore.transition_model_version_stage``."""
        return self.versions.transition_stage(
            name, version, stage, archive_existing_versions=archive_existing_versions, user=user
        )

    def delete_model_version(self, name: str, version: int, *, user: str) -> str | None:
        """See ``RegistryStore.delete_model_version``."""
        return self.versions.delete(name, version, user=user)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """See ``RegistryStore.search_model_versions``."""
        return self.versions.search(filter_string, max_results, order_by, page_token)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """See ``RegistryStore.set_model_version_tag``."""
        self.versions.set_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        """See ``RegistryStore.delete_model_version_tag``."""
        self.versions.delete_tag(name, version, key)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """See ``RegistryStore.get_model_version_by_alias``."""
        return self.versions.by_alias(name, alias)

    def get_highest_version(self, name: str, stage: Stage | None = None) -> ModelVersion:
        """See ``RegistryStore.get_highest_version``."""
        return self.versions.highest(name, stage)


__all__ = ["SqlRegistryStore"]
