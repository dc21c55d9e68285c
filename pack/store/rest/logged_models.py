"""MLflow 3's logged models on a tracking server: where a client uploads a model directory to register it.

A logged model (``m-<hex>``) belongs to an experiment, optionally to the run that produced it, and keeps
its files at its ``artifact_uri`` (``mlflow-artifacts:/<exp>/models/<id>/artifacts`` when the server
serves artifacts). ``models:/m-<id>`` is a registrable source on both ``pack server`` and ``mlflow server``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pack.store.rest import wire
from pack.store.rest.connection import RestConnection

API = "/api/2.0/mlflow/logged-models"
READY = "LOGGED_MODEL_READY"


@dataclass(frozen=True)
class LoggedModel:
    """The parts of MLflow's ``LoggedModelInfo`` a client needs."""

    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    status: str
    source_run_id: str | None = None

    @property
    def uri(self) -> str:
        """``models:/<model_id>``."""
        return f"models:/{self.model_id}"


def _logged_model(answer: wire.Json) -> LoggedModel:
    info = (answer.get("model") or answer).get("info") or {}
    return LoggedModel(
        model_id=str(info["model_id"]),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_uri=str(info.get("artifact_uri", "")),
        status=str(info.get("status", "")),
        source_run_id=info.get("source_run_id") or None,
    )


class LoggedModels:
    """Create, finalize, get and find logged models through ``connection``."""

    def __init__(self, connection: RestConnection) -> None:
        self.connection = connection

    def create(self, experiment_id: str, name: str, source_run_id: str | None = None) -> LoggedModel:
        """A new logged model, PENDING until ``finalize``."""
        body = {"experiment_id": experiment_id, "name": name, "source_run_id": source_run_id}
        return _logged_model(self.connection.post(API, body))

    def finalize(self, model_id: str, status: str = READY) -> LoggedModel:
        """Mark a logged model READY (or ``LOGGED_MODEL_UPLOAD_FAILED``)."""
        body = {"model_id": model_id, "status": status}
        return _logged_model(self.connection.call("PATCH", f"{API}/{model_id}", body=body, idempotent=True))

    def get(self, model_id: str) -> LoggedModel:
        """One logged model.

        Raises:
            NotFound: no such logged model.
        """
        return _logged_model(self.connection.get(f"{API}/{model_id}"))

    def find(self, experiment_id: str, run_id: str, name: str) -> LoggedModel | None:
        """The newest logged model called ``name`` that ``run_id`` produced, or None."""
        if "'" in name or "'" in run_id:
            return None  # not expressible in the filter language; no such model is logged by pack
        body = {
            "experiment_ids": [experiment_id],
            "filter": f"source_run_id = '{run_id}' AND name = '{name}'",
            "max_results": 1,
            "order_by": [{"field_name": "creation_timestamp", "ascending": False}],
        }
        found = self.connection.post(f"{API}/search", body, idempotent=True).get("models") or ()
        return _logged_model(found[0]) if found else None


__all__ = ["READY", "LoggedModel", "LoggedModels"]
