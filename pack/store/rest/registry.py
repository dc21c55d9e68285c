"""``RestRegistryStore``: the ``RegistryStore`` Protocol over MLflow's REST API, plus pack's extensions.

The server owns the files of a registered version: ``create_model_version`` sends a source URI the
server can reach (``runs:/``, ``mlflow-artifacts:/``, ``models:/``...) and ``pack server`` copies and
checksums it before it answers READY (``mlflow server`` only records the source). Hence
``finish_model_version`` and ``fail_model_version`` have nothing to do here, and deletions return no
locations for the client to clean up.

pack's extensions (``pack server`` serves them, MLflow's client never calls them; an MLflow server
answers 404 without an error code, ``pack server`` 404 ``ENDPOINT_NOT_FOUND`` for one it lacks:
``MissingEndpoint``):

``GET /api/2.0/mlflow/pack/model-versions/files?name=N&version=V``
    ``{"files": [{"path": "MLmodel", "sha256": "<hex>", "size": 123}, ...]}``: the checksums recorded
    at registration, which a client checks its downloads against.
``GET /api/2.0/mlflow/pack/registered-models/history?name=N[&version=V][&max_results=K][&page_token=T]``
    ``{"events": [{"id", "name", "version", "kind", "alias", "from", "to", "user", "timestamp",
    "reason"}], "next_page_token": "..."}``: stage and alias changes, newest first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pack.errors import NotFound, RegistryError
from pack.store.entities import (
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    PagedList,
    PromotionEvent,
    RegisteredModel,
    Stage,
)
from pack.store.rest import wire
from pack.store.rest.connection import MissingEndpoint, RestConnection

API = "/api/2.0/mlflow"
PACK_API = "/api/2.0/mlflow/pack"
_LOGGED_MODEL_PREFIX = "models:/m-"


class RestRegistryStore:
    """Implements ``pack.store.RegistryStore`` by calling a tracking server through ``connection``."""

    def __init__(self, connection: RestConnection) -> None:
        self.connection = connection

    def _get(self, endpoint: str, **params: Any) -> wire.Json:
        return self.connection.get(f"{API}/{endpoint}", params)

    def _send(self, method: str, endpoint: str, *, idempotent: bool, **body: Any) -> wire.Json:
        return self.connection.call(method, f"{API}/{endpoint}", body=body, idempotent=idempotent)

    # registered models

    def create_registered_model(
        self, name: str, tags: Mapping[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """See ``RegistryStore.create_registered_model``."""
        answer = self._send(
            "POST",
            "registered-models/create",
            idempotent=False,
            name=name,
            tags=wire.tags_json(tags) or None,
            description=description,
        )
        return wire.registered_model_of(answer["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        """See ``RegistryStore.get_registered_model``."""
        return wire.registered_model_of(self._get("registered-models/get", name=name)["registered_model"])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """See ``RegistryStore.search_registered_models``."""
        answer = self._get(
            "registered-models/search",
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or []),
            page_token=page_token or None,
        )
        found = [wire.registered_model_of(m) for m in answer.get("registered_models") or ()]
        return PagedList(found, answer.get("next_page_token") or None)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """See ``RegistryStore.rename_registered_model``."""
        answer = self._send("POST", "registered-models/rename", idempotent=False, name=name, new_name=new_name)
        return wire.registered_model_of(answer["registered_model"])

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """See ``RegistryStore.update_registered_model``."""
        answer = self._send(
            "PATCH", "registered-models/update", idempotent=True, name=name, description=description or ""
        )
        return wire.registered_model_of(answer["registered_model"])

    def delete_registered_model(self, name: str) -> list[str]:
        """See ``RegistryStore.delete_registered_model`` (the server removes the files itself)."""
        self._send("DELETE", "registered-models/delete", idempotent=True, name=name)
        return []

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """See ``RegistryStore.set_registered_model_tag``."""
        self._send("POST", "registered-models/set-tag", idempotent=True, name=name, key=key, value=value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """See ``RegistryStore.delete_registered_model_tag``."""
        self._send("DELETE", "registered-models/delete-tag", idempotent=True, name=name, key=key)

    def get_latest_versions(self, name: str, stages: Sequence[Stage] | None = None) -> list[ModelVersion]:
        """See ``RegistryStore.get_latest_versions``."""
        answer = self._send(
            "POST",
            "registered-models/get-latest-versions",
            idempotent=True,
            name=name,
            stages=[Stage.parse(s).value for s in stages or ()] or None,
        )
        return [wire.model_version_of(v) for v in answer.get("model_versions") or ()]

    # versions

    def create_model_version(
        self,
        name: str,
        *,
        source: str | None,
        storage_location: Callable[[int], str] | None = None,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """See ``RegistryStore.create_model_version``: the server stores the files of ``source`` where
        it chooses (``storage_location`` is not used) and records who by its own authentication.
        ``model_id`` defaults to the logged model a ``models:/m-<id>`` source names."""
        if model_id is None and source and source.startswith(_LOGGED_MODEL_PREFIX):
            model_id = source[len("models:/") :]
        answer = self._send(
            "POST",
            "model-versions/create",
            idempotent=False,
            name=name,
            source=source,
            run_id=run_id,
            tags=wire.tags_json(tags) or None,
            run_link=run_link,
            description=description,
            model_id=model_id,
        )
        return wire.model_version_of(answer["model_version"])

    def finish_model_version(
        self,
        name: str,
        version: int,
        files: Sequence[ModelVersionFile],
        *,
        flavors: Sequence[str] = (),
        signature: str | None = None,
    ) -> ModelVersion:
        """Not a client's step: the server makes a version READY once it holds its files.

        Raises:
            RegistryError: always.
        """
        raise RegistryError(f"version {version} of {name!r}: a tracking server finishes its own registrations")

    def fail_model_version(self, name: str, version: int, message: str) -> bool:
        """Not a client's step (see ``finish_model_version``).

        Raises:
            RegistryError: always.
        """
        raise RegistryError(f"version {version} of {name!r}: a tracking server fails its own registrations")

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """See ``RegistryStore.get_model_version``."""
        return wire.model_version_of(self._get("model-versions/get", name=name, version=version)["model_version"])

    def get_model_version_download_uri(self, name: str, version: int) -> str:
        """Where the server keeps (``pack server``) or found (``mlflow server``) the version's files."""
        return str(self._get("model-versions/get-download-uri", name=name, version=version)["artifact_uri"])

    def get_model_version_files(self, name: str, version: int) -> list[ModelVersionFile]:
        """See ``RegistryStore.get_model_version_files``.

        Raises:
            NotFound: no such version. RegistryError: the server records no checksums.
        """
        files = self.recorded_files(name, version)
        if files is None:
            raise RegistryError(f"the tracking server at {self.connection.base_url} records no file checksums")
        return files

    def recorded_files(self, name: str, version: int) -> list[ModelVersionFile] | None:
        """The checksums the server recorded at registration, or None when it records none (MLflow).

        Raises:
            NotFound: no such version.
        """
        try:
            answer = self.connection.get(f"{PACK_API}/model-versions/files", {"name": name, "version": version})
        except MissingEndpoint:
            return None
        return sorted((wire.file_checksum_of(f) for f in answer.get("files") or ()), key=lambda f: f.path)

    def update_model_version(self, name: str, version: int, description: str | None) -> ModelVersion:
        """See ``RegistryStore.update_model_version``."""
        answer = self._send(
            "PATCH",
            "model-versions/update",
            idempotent=True,
            name=name,
            version=str(version),
            description=description or "",
        )
        return wire.model_version_of(answer["model_version"])

    def transition_model_version_stage(
        self, name: str, version: int, stage: Stage, *, archive_existing_versions: bool, user: str
    ) -> ModelVersion:
        """See ``RegistryStore.transition_model_version_stage`` (the server records its own user)."""
        answer = self._send(
            "POST",
            "model-versions/transition-stage",
            idempotent=True,
            name=name,
            version=str(version),
            stage=Stage.parse(stage).value,
            archive_existing_versions=archive_existing_versions,
        )
        return wire.model_version_of(answer["model_version"])

    def delete_model_version(self, name: str, version: int, *, user: str) -> str | None:
        """See ``RegistryStore.delete_model_version`` (the server removes the files itself)."""
        self._send("DELETE", "model-versions/delete", idempotent=True, name=name, version=str(version))
        return None

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """See ``RegistryStore.search_model_versions``."""
        answer = self._get(
            "model-versions/search",
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by or []),
            page_token=page_token or None,
        )
        found = [wire.model_version_of(v) for v in answer.get("model_versions") or ()]
        return PagedList(found, answer.get("next_page_token") or None)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """See ``RegistryStore.set_model_version_tag``."""
        self._send(
            "POST", "model-versions/set-tag", idempotent=True, name=name, version=str(version), key=key, value=value
        )

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        """See ``RegistryStore.delete_model_version_tag``."""
        self._send("DELETE", "model-versions/delete-tag", idempotent=True, name=name, version=str(version), key=key)

    def set_registered_model_alias(self, name: str, alias: str, version: int, *, user: str) -> None:
        """See ``RegistryStore.set_registered_model_alias``."""
        self._send("POST", "registered-models/alias", idempotent=True, name=name, alias=alias, version=str(version))

    def delete_registered_model_alias(self, name: str, alias: str, *, user: str) -> None:
        """See ``RegistryStore.delete_registered_model_alias``."""
        self._send("DELETE", "registered-models/alias", idempotent=True, name=name, alias=alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """See ``RegistryStore.get_model_version_by_alias``."""
        return wire.model_version_of(self._get("registered-models/alias", name=name, alias=alias)["model_version"])

    def get_highest_version(self, name: str, stage: Stage | None = None) -> ModelVersion:
        """See ``RegistryStore.get_highest_version`` (from the latest version of each stage, as MLflow's
        client resolves ``models:/<name>/latest``)."""
        found = self.get_latest_versions(name, [stage] if stage is not None else None)
        ready = [v for v in found if v.status == ModelVersionStatus.READY.value]
        if not ready:
            where = f" in stage {stage.value}" if stage is not None else ""
            raise NotFound(f"registered model {name!r} has no ready version{where}")
        return max(ready, key=lambda v: v.version)

    def get_history(
        self, name: str, version: int | None = None, max_results: int = 1000, page_token: str | None = None
    ) -> PagedList[PromotionEvent]:
        """See ``RegistryStore.get_history``.

        Raises:
            RegistryError: the server records no history (an MLflow server).
        """
        try:
            answer = self.connection.get(
                f"{PACK_API}/registered-models/history",
                {"name": name, "version": version, "max_results": max_results, "page_token": page_token or None},
            )
        except MissingEndpoint:
            raise RegistryError(
                f"the tracking server at {self.connection.base_url} records no promotion history"
            ) from None
        found = [wire.promotion_event_of(e) for e in answer.get("events") or ()]
        return PagedList(found, answer.get("next_page_token") or None)


__all__ = ["PACK_API", "RestRegistryStore"]
