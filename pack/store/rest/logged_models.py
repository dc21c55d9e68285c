"""MLflow 3's logged models over REST, the ``TrackingStore`` methods of ``RestTrackingStore`` that handle them.

A logged model (``m-<hex>``) belongs to an experiment, optionally to the run that produced it, and keeps
its files at its ``artifact_location`` (``mlflow-artifacts:/<exp>/models/<id>/artifacts`` when the server
serves artifacts). ``models:/m-<id>`` is a registrable source on both ``pack server`` and ``mlflow server``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pack.errors import InvalidInput
from pack.store.entities import LoggedModel, LoggedModelStatus, PagedList
from pack.store.rest import wire
from pack.store.rest.connection import RestConnection

API = "/api/2.0/mlflow/logged-models"


def _model(answer: wire.Json) -> LoggedModel:
    return wire.logged_model_of(answer["model"])


def order_by_json(order_by: Sequence[str] | None) -> list[wire.Json] | None:
    """``["creation_timestamp DESC", "name"]`` as MLflow's ``[{"field_name", "ascending"}]``.

    Raises:
        InvalidInput: a term is not ``field [ASC|DESC]``.
    """
    terms: list[wire.Json] = []
    for term in order_by or ():
        words = term.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise InvalidInput(f"invalid order_by term {term!r}: use 'field', 'field ASC' or 'field DESC'")
        terms.append({"field_name": words[0], "ascending": len(words) == 1 or words[1].upper() == "ASC"})
    return terms or None


class LoggedModelCalls:
    """The logged-model methods of ``TrackingStore`` through ``connection`` (see its Protocol)."""

    connection: RestConnection

    def _model_path(self, model_id: str, *rest: str) -> str:
        return "/".join((API, quote(model_id, safe=""), *(quote(part, safe="") for part in rest)))

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        *,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """See ``TrackingStore.create_logged_model``: a new logged model, PENDING until finalized."""
        body = {
            "experiment_id": str(experiment_id),
            "name": name,
            "source_run_id": source_run_id,
            "tags": wire.tags_json(tags) or None,
            "params": wire.tags_json(params) or None,
            "model_type": model_type,
        }
        return _model(self.connection.post(API, body))

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """See ``TrackingStore.get_logged_model``."""
        return _model(self.connection.get(self._model_path(model_id)))

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """See ``TrackingStore.finalize_logged_model`` (READY, or UPLOAD_FAILED)."""
        body = {"model_id": model_id, "status": LoggedModelStatus.parse(status).value}
        return _model(self.connection.call("PATCH", self._model_path(model_id), body=body, idempotent=True))

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> LoggedModel:
        """See ``TrackingStore.set_logged_model_tags``."""
        body = {"model_id": model_id, "tags": wire.tags_json(tags)}
        answer = self.connection.call("PATCH", self._model_path(model_id, "tags"), body=body, idempotent=True)
        return _model(answer) if answer.get("model") else self.get_logged_model(model_id)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """See ``TrackingStore.delete_logged_model_tag``."""
        self.connection.call("DELETE", self._model_path(model_id, "tags", key), idempotent=True)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """See ``TrackingStore.log_logged_model_params``."""
        body = {"model_id": model_id, "params": wire.tags_json(params)}
        self.connection.post(self._model_path(model_id, "params"), body, idempotent=True)

    def delete_logged_model(self, model_id: str) -> None:
        """See ``TrackingStore.delete_logged_model``."""
        self.connection.call("DELETE", self._model_path(model_id), idempotent=True)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """See ``TrackingStore.search_logged_models`` (``order_by`` terms as ``field [ASC|DESC]``)."""
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter": filter_string or None,
            "max_results": max_results,
            "order_by": order_by_json(order_by),
            "page_token": page_token or None,
        }
        answer = self.connection.post(f"{API}/search", body, idempotent=True)
        found = [wire.logged_model_of(m) for m in answer.get("models") or ()]
        return PagedList(found, answer.get("next_page_token") or None)


def logged_model_uri(model: LoggedModel) -> str:
    """``models:/<model_id>``: how a logged model is named as a source."""
    return f"models:/{model.model_id}"


__all__ = ["API", "LoggedModelCalls", "logged_model_uri", "order_by_json"]
