"""``RegistryClient``: the registry methods of MLflow's ``MlflowClient``, same names and arguments.

``pack.Client`` (in ``pack.tracking``) adds the tracking methods. Versions may be given as int or
digit string; entities are frozen dataclasses (``pack.store.entities``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pack.registry.default import process_default
from pack.registry.services import Services
from pack.registry.settings import RegistrySettings, absolute_sqlite_uri
from pack.store import ModelVersion, ModelVersionFile, PagedList, PromotionEvent, RegisteredModel, Stage


class RegistryClient:
    """Registered models and versions, with MLflow's method names (see ``MlflowClient``).

    Every call goes through the registry service (``Registry``) of ``services``: given, else built
    for ``settings``, else the process's default (``PACK_*`` environment and ``set_registry_uri``).
    """

    def __init__(
        self,
        registry_uri: str | None = None,
        *,
        settings: RegistrySettings | None = None,
        services: Services | None = None,
    ) -> None:
        if services is None:
            default = process_default()
            chosen = with_uris(settings or default.settings(), registry_uri=registry_uri)
            services = default.services(chosen)
        self._services = services
        self._registry = services.registry

    # registered models

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model (``deployment_job_id`` is accepted for MLflow compatibility)."""
        return self._registry.create_registered_model(name, tags, description)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; versions, aliases and history follow."""
        return self._registry.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Set a model's description."""
        return self._registry.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a model, its versions and their files."""
        self._registry.delete_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A model with tags, aliases and the latest version per stage."""
        return self._registry.get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching ``name``/``tags.<key>`` clauses; ``.token`` of the result pages on."""
        return self._registry.search_registered_models(filter_string, max_results, order_by, page_token)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when None or empty)."""
        return self._registry.get_latest_versions(name, stages)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a model tag."""
        self._registry.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a model tag."""
        self._registry.delete_registered_model_tag(name, key)

    # versions

    def create_model_version(  # noqa: PLR0917 - MLflow's signature
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register the model at ``source`` (path, ``runs:/``, ``models:/`` or fsspec URL) as a new
        version; files are copied and checksummed, and the returned version is READY."""
        return self._registry.create_model_version(
            name, str(source), run_id=run_id, tags=tags, run_link=run_link, description=description
        )

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register the version ``src_model_uri`` (``models:/...``) as a new version of ``dst_name``."""
        return self._registry.register_model(src_model_uri, dst_name)

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> ModelVersion:
        """Set a version's description."""
        return self._registry.update_model_version(name, version, description)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage; ``archive_existing_versions`` archives the others in it."""
        return self._registry.transition_stage(
            name, version, stage, archive_existing_versions=archive_existing_versions
        )

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version and its files."""
        self._registry.delete_model_version(name, version)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version."""
        return self._registry.get_model_version(name, version)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the registry keeps the version's files."""
        return self._registry.get_model_version_download_uri(name, version)

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        """All stage names."""
        return [stage.value for stage in Stage]

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching e.g. ``name='m' AND tags.k='v'``; ``.token`` of the result pages on."""
        return self._registry.search_model_versions(filter_string, max_results, order_by, page_token)

    def set_model_version_tag(
        self,
        name: str,
        version: int | str | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Set a version tag (the version may be given by ``stage``: its latest version)."""
        self._registry.set_model_version_tag(name, version, key, value, stage)

    def delete_model_version_tag(
        self, name: str, version: int | str | None = None, key: str | None = None, stage: str | None = None
    ) -> None:
        """Delete a version tag."""
        self._registry.delete_model_version_tag(name, version, key, stage)

    # aliases and history

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at a version (recorded in the history)."""
        self._registry.set_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias (recorded in the history)."""
        self._registry.delete_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points to."""
        return self._registry.get_model_version_by_alias(name, alias)

    def get_model_version_history(
        self,
        name: str,
        version: int | str | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[PromotionEvent]:
        """Every stage transition and alias change of a model (or one version), newest first: who
        (``PACK_USER`` or the OS user), when, from and to. Not in MLflow (its issue #2169)."""
        return self._registry.history(name, version, max_results, page_token)

    def get_model_version_files(self, name: str, version: int | str) -> list[ModelVersionFile]:
        """The files of a version with the sha256 and size recorded at registration."""
        return self._registry.get_model_version_files(name, version)


def with_uris(
    base: RegistrySettings, tracking_uri: str | None = None, registry_uri: str | None = None
) -> RegistrySettings:
    """``base`` with other database URIs (relative ``sqlite:///`` paths made absolute)."""
    update: dict[str, Any] = {}
    if tracking_uri is not None:
        update["tracking_uri"] = absolute_sqlite_uri(tracking_uri)
    if registry_uri is not None:
        update["registry_uri"] = absolute_sqlite_uri(registry_uri)
    return base.model_copy(update=update) if update else base


__all__ = ["RegistryClient", "with_uris"]
