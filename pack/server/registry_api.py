"""The model registry over MLflow's REST API: registered models, versions, stages, aliases, tags.

A version created here is registered as pack registers any version: its files are copied from the
source into the registry's storage with every file's sha256 recorded, and it is READY once stored.
``get-download-uri`` verifies the files against those checksums before it names them (a tampered
version is refused), and ``pack/model-versions/files`` gives the checksums to pack's own client.
"""

from __future__ import annotations

from pack.errors import InvalidInput, InvalidModel
from pack.refs import MODELS, RUNS, RunArtifactRef
from pack.server import wire
from pack.server.api import Access, Call, endpoints
from pack.server.errors import Conflict
from pack.server.wire import Json
from pack.store import ModelVersionStatus
from pack.uris import scheme_of

READ, EDIT, ADMIN = Access.READ, Access.EDIT, Access.ADMIN
MAX_MODELS_PAGE = 1000
MAX_VERSIONS_PAGE = 200_000


def _version(call: Call) -> int:
    value = call.params.need("version")
    if not value.isdigit():
        raise InvalidInput(f"Invalid value {value!r} for parameter 'version': expected a version number")
    return int(value)


# registered models ------------------------------------------------------------------------------------


@endpoints("POST", EDIT, "registered-models/create")
def create_registered_model(call: Call) -> Json:
    params = call.params
    model = call.registry.create_registered_model(
        params.need("name"), params.key_values("tags"), params.text("description")
    )
    return {"registered_model": wire.registered_model(model)}


@endpoints("POST", EDIT, "registered-models/rename")
def rename_registered_model(call: Call) -> Json:
    model = call.registry.rename_registered_model(call.params.need("name"), call.params.need("new_name"))
    return {"registered_model": wire.registered_model(model)}


@endpoints("PATCH", EDIT, "registered-models/update")
def update_registered_model(call: Call) -> Json:
    model = call.registry.update_registered_model(call.params.need("name"), call.params.text("description"))
    return {"registered_model": wire.registered_model(model)}


@endpoints("DELETE", ADMIN, "registered-models/delete")
def delete_registered_model(call: Call) -> Json:
    call.registry.delete_registered_model(call.params.need("name"))
    return {}


@endpoints("GET", READ, "registered-models/get")
def get_registered_model(call: Call) -> Json:
    return {"registered_model": wire.registered_model(call.registry.get_registered_model(call.params.need("name")))}


@endpoints("GET", READ, "registered-models/search")
@endpoints("POST", READ, "registered-models/search")
def search_registered_models(call: Call) -> Json:
    params = call.params
    page = call.registry.search_registered_models(
        params.text("filter"),
        params.integer("max_results", default=100, low=1, high=MAX_MODELS_PAGE) or 100,
        params.strings("order_by"),
        params.text("page_token"),
    )
    return wire.compact({"registered_models": [wire.registered_model(m) for m in page], "next_page_token": page.token})


@endpoints("POST", READ, "registered-models/get-latest-versions")
@endpoints("GET", READ, "registered-models/get-latest-versions")
def get_latest_versions(call: Call) -> Json:
    found = call.registry.get_latest_versions(call.params.need("name"), call.params.strings("stages"))
    return wire.compact({"model_versions": [wire.model_version(v) for v in found]})


@endpoints("POST", EDIT, "registered-models/set-tag")
def set_registered_model_tag(call: Call) -> Json:
    params = call.params
    call.registry.set_registered_model_tag(params.need("name"), params.need("key"), params.text("value") or "")
    return {}


@endpoints("DELETE", EDIT, "registered-models/delete-tag")
def delete_registered_model_tag(call: Call) -> Json:
    call.registry.delete_registered_model_tag(call.params.need("name"), call.params.need("key"))
    return {}


@endpoints("POST", ADMIN, "registered-models/alias")
def set_alias(call: Call) -> Json:
    params = call.params
    call.registry.set_alias(params.need("name"), params.need("alias"), _version(call))
    return {}


@endpoints("DELETE", ADMIN, "registered-models/alias")
def delete_alias(call: Call) -> Json:
    call.registry.delete_alias(call.params.need("name"), call.params.need("alias"))
    return {}


@endpoints("GET", READ, "registered-models/alias")
def get_version_by_alias(call: Call) -> Json:
    found = call.registry.get_model_version_by_alias(call.params.need("name"), call.params.need("alias"))
    return {"model_version": wire.model_version(found)}


# versions ---------------------------------------------------------------------------------------------


@endpoints("POST", EDIT, "model-versions/create")
def create_model_version(call: Call) -> Json:
    params = call.params
    source = params.need("source")
    run_id = params.text("run_id")
    model_id = params.text("model_id")
    files_at, logged_model = _files_of(call, source, run_id)
    model_id = model_id or logged_model
    version = call.registry.create_model_version(
        params.need("name"),
        source,
        run_id=run_id,
        tags=params.key_values("tags"),
        run_link=params.text("run_link"),
        description=params.text("description"),
        model_id=model_id,
        files_at=files_at,
    )
    return {"model_version": wire.model_version(version)}


def _files_of(call: Call, source: str, run_id: str | None) -> tuple[str | None, str | None]:
    """Where the files of ``source`` are when the registry cannot find them itself (None: it can), and
    the MLflow 3 logged model they belong to, after MLflow's source rules (a ``runs:/`` source names the
    ``run_id`` given; a named run exists) and checking that the files lie in this server's storage.

    ``runs:/<run>/<name>`` names the run's logged model ``<name>`` when the run has no such artifact
    (MLflow 3 keeps a logged model's files under the experiment, not the run).
    """
    scheme = scheme_of(source)
    if scheme == RUNS:
        try:
            ref = RunArtifactRef.parse(source)
        except InvalidInput as exc:
            raise InvalidInput(f"Invalid model version source: '{source}': {exc}") from None
        if ref.run_id != run_id:
            raise InvalidInput(
                f"Invalid model version source: '{source}'. The run_id request parameter must identify the "
                "run that contains the source."
            )
        run = call.tracking.get_run(ref.run_id)
        root = run.info.artifact_uri
        call.locations.check_readable(f"{root}/{ref.path}" if ref.path else root)
        if ref.path and not call.locations.open(root).ls(ref.path):
            found = call.tracking.search_logged_models(
                [run.info.experiment_id],
                f"name = '{_quote(ref.path)}' AND source_run_id = '{ref.run_id}' AND status = 'LOGGED_MODEL_READY'",
                1,
            )
            if found:
                call.locations.check_readable(found[0].artifact_location)
                return found[0].artifact_location, found[0].model_id
        return None, None
    if run_id:
        call.tracking.get_run(run_id)  # NotFound for an unknown run, as MLflow
    if scheme == MODELS:
        name = source.removeprefix(f"{MODELS}:").lstrip("/")
        if name.startswith("m-") and "/" not in name:
            location = call.tracking.get_logged_model(name).artifact_location
            call.locations.check_readable(location)
            return location, name
        return None, None  # a registered version: the registry copies its verified files
    call.locations.check_readable(source)
    return source, None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


@endpoints("PATCH", EDIT, "model-versions/update")
def update_model_version(call: Call) -> Json:
    params = call.params
    found = call.registry.update_model_version(params.need("name"), _version(call), params.text("description"))
    return {"model_version": wire.model_version(found)}


@endpoints("POST", ADMIN, "model-versions/transition-stage")
def transition_stage(call: Call) -> Json:
    params = call.params
    found = call.registry.transition_stage(
        params.need("name"),
        _version(call),
        params.need("stage"),
        archive_existing_versions=params.flag("archive_existing_versions"),
    )
    return {"model_version": wire.model_version(found)}


@endpoints("DELETE", ADMIN, "model-versions/delete")
def delete_model_version(call: Call) -> Json:
    call.registry.delete_model_version(call.params.need("name"), _version(call))
    return {}


@endpoints("GET", READ, "model-versions/get")
def get_model_version(call: Call) -> Json:
    return {
        "model_version": wire.model_version(call.registry.get_model_version(call.params.need("name"), _version(call)))
    }


@endpoints("GET", READ, "model-versions/search")
@endpoints("POST", READ, "model-versions/search")
def search_model_versions(call: Call) -> Json:
    params = call.params
    page = call.registry.search_model_versions(
        params.text("filter"),
        params.integer("max_results", default=10_000, low=1, high=MAX_VERSIONS_PAGE) or 10_000,
        params.strings("order_by"),
        params.text("page_token"),
    )
    return wire.compact({"model_versions": [wire.model_version(v) for v in page], "next_page_token": page.token})


@endpoints("GET", READ, "model-versions/get-download-uri")
def get_download_uri(call: Call) -> Json:
    version = call.registry.get_model_version(call.params.need("name"), _version(call))
    if version.status != ModelVersionStatus.READY.value or version.storage_location is None:
        raise InvalidInput(f"version {version.version} of {version.name!r} is {version.status}, not READY")
    try:
        call.registry.resolver.fetch(version)  # verified against the checksums recorded at registration
    except InvalidModel as exc:
        raise Conflict(str(exc)) from exc
    return {"artifact_uri": call.locations.client_uri(version.storage_location)}


@endpoints("POST", EDIT, "model-versions/set-tag")
def set_model_version_tag(call: Call) -> Json:
    params = call.params
    call.registry.set_model_version_tag(
        params.need("name"), _version(call), params.need("key"), params.text("value") or ""
    )
    return {}


@endpoints("DELETE", EDIT, "model-versions/delete-tag")
def delete_model_version_tag(call: Call) -> Json:
    call.registry.delete_model_version_tag(call.params.need("name"), _version(call), call.params.need("key"))
    return {}


@endpoints("GET", READ, "pack/registered-models/history")
def get_history(call: Call) -> Json:
    """pack's extension: a model's stage and alias changes (who, when, from, to), newest first;
    ``version`` narrows them to the changes that left a version in a stage or an alias on it."""
    params = call.params
    version = call.params.text("version")
    page = call.registry.history(
        params.need("name"),
        _version(call) if version else None,
        params.integer("max_results", default=1000, low=1, high=MAX_MODELS_PAGE) or 1000,
        params.text("page_token"),
    )
    return wire.compact({"events": [wire.promotion_event(e) for e in page], "next_page_token": page.token})


@endpoints("GET", READ, "pack/model-versions/files")
def get_model_version_files(call: Call) -> Json:
    """pack's extension: the files of a version with the sha256 and size recorded at registration."""
    files = call.registry.get_model_version_files(call.params.need("name"), _version(call))
    return wire.compact({"files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files]})


__all__ = ["MAX_MODELS_PAGE", "MAX_VERSIONS_PAGE"]
