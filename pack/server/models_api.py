"""MLflow 3's logged models over REST: what ``mlflow.<flavor>.log_model`` creates, uploads into and
finalizes, and what ``register_model("runs:/...")`` and ``load_model("runs:/...")`` search."""

from __future__ import annotations

from pack.errors import InvalidInput
from pack.server import wire
from pack.server.api import Access, Call, endpoints
from pack.server.wire import Json
from pack.store import LoggedModel

READ, EDIT, ADMIN = Access.READ, Access.EDIT, Access.ADMIN
MAX_SEARCH_RESULTS = 10_000


def _document(model: LoggedModel) -> Json:
    return {"model": wire.logged_model(model)}


@endpoints("POST", EDIT, "logged-models")
def create_logged_model(call: Call) -> Json:
    params = call.params
    model = call.tracking.create_logged_model(
        params.need("experiment_id"),
        params.text("name"),
        source_run_id=params.text("source_run_id"),
        tags=params.key_values("tags"),
        params=params.key_values("params"),
        model_type=params.text("model_type"),
    )
    return _document(model)


@endpoints("GET", READ, "logged-models/{model_id}")
def get_logged_model(call: Call) -> Json:
    return _document(call.tracking.get_logged_model(call.args["model_id"]))


@endpoints("PATCH", EDIT, "logged-models/{model_id}")
def finalize_logged_model(call: Call) -> Json:
    status = call.params.raw("status")
    if status is None:
        raise InvalidInput("Missing value for required parameter 'status'")
    return _document(call.tracking.finalize_logged_model(call.args["model_id"], str(status)))


@endpoints("DELETE", ADMIN, "logged-models/{model_id}")
def delete_logged_model(call: Call) -> Json:
    call.tracking.delete_logged_model(call.args["model_id"])
    return {}


@endpoints("PATCH", EDIT, "logged-models/{model_id}/tags")
def set_logged_model_tags(call: Call) -> Json:
    return _document(call.tracking.set_logged_model_tags(call.args["model_id"], call.params.key_values("tags")))


@endpoints("DELETE", EDIT, "logged-models/{model_id}/tags/{tag_key}")
def delete_logged_model_tag(call: Call) -> Json:
    call.tracking.delete_logged_model_tag(call.args["model_id"], call.args["tag_key"])
    return {}


@endpoints("POST", EDIT, "logged-models/{model_id}/params")
def log_logged_model_params(call: Call) -> Json:
    call.tracking.log_logged_model_params(call.args["model_id"], call.params.key_values("params"))
    return {}


@endpoints("POST", READ, "logged-models/search")
def search_logged_models(call: Call) -> Json:
    params = call.params
    order = []
    for term in params.objects("order_by"):
        field = term.get("field_name")
        if not isinstance(field, str) or not field:
            raise InvalidInput(f"Invalid order_by term {term!r}: a field_name is required")
        order.append(f"{field} {'ASC' if term.get('ascending', True) else 'DESC'}")
    page = call.tracking.search_logged_models(
        params.strings("experiment_ids"),
        params.text("filter"),
        params.integer("max_results", default=100, low=1, high=MAX_SEARCH_RESULTS) or 100,
        order,
        params.text("page_token"),
    )
    documents = [wire.logged_model(m) for m in page]
    return wire.compact({"models": documents, "next_page_token": page.token})


@endpoints("GET", READ, "logged-models/{model_id}/artifacts/directories")
def list_logged_model_artifacts(call: Call) -> Json:
    model = call.tracking.get_logged_model(call.args["model_id"])
    path = call.params.text("artifact_directory_path") or ""
    files = call.locations.open(model.artifact_location).ls(path)
    return wire.compact(
        {
            "root_uri": model.artifact_location,
            "files": [wire.file_info(f) for f in files],
        }
    )


__all__ = ["MAX_SEARCH_RESULTS"]
