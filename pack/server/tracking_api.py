"""Experiments, runs, params, metrics, tags, inputs/outputs and run search, as MLflow's REST API."""

from __future__ import annotations

from pack.errors import InvalidInput, NotFound
from pack.server import wire
from pack.server.api import Access, Call, endpoints
from pack.server.params import to_float
from pack.server.wire import Json
from pack.store import (
    Dataset,
    DatasetInput,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from pack.store.entities import now_ms

READ, EDIT, ADMIN = Access.READ, Access.EDIT, Access.ADMIN
# MLflow's limits for one log-batch request.
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
MAX_HISTORY_PAGE = 1_000_000
MAX_SEARCH_RESULTS = 50_000


def view_type(value: object, default: ViewType = ViewType.ACTIVE_ONLY) -> ViewType:
    """MLflow's ``ViewType`` from its name or number."""
    if value is None or value == "":
        return default
    names = {"ACTIVE_ONLY": ViewType.ACTIVE_ONLY, "DELETED_ONLY": ViewType.DELETED_ONLY, "ALL": ViewType.ALL}
    if isinstance(value, str) and value.upper() in names:
        return names[value.upper()]
    try:
        return ViewType(int(str(value)))
    except ValueError:
        raise InvalidInput(f"Invalid view type {value!r} (ACTIVE_ONLY, DELETED_ONLY or ALL)") from None


# experiments ------------------------------------------------------------------------------------------


@endpoints("GET", READ, "experiments/get-by-name")
def get_experiment_by_name(call: Call) -> Json:
    name = call.params.need("experiment_name")
    found = call.tracking.get_experiment_by_name(name)
    if found is None:
        raise NotFound(f"Could not find experiment with name '{name}'")
    return {"experiment": wire.experiment(found)}


@endpoints("POST", EDIT, "experiments/create")
def create_experiment(call: Call) -> Json:
    params = call.params
    experiment_id = call.tracking.create_experiment(
        params.need("name"), params.text("artifact_location"), params.key_values("tags")
    )
    return {"experiment_id": experiment_id}


@endpoints("GET", READ, "experiments/get")
def get_experiment(call: Call) -> Json:
    return {"experiment": wire.experiment(call.tracking.get_experiment(call.params.need("experiment_id")))}


@endpoints("GET", READ, "experiments/search")
@endpoints("POST", READ, "experiments/search")
def search_experiments(call: Call) -> Json:
    params = call.params
    page = call.tracking.search_experiments(
        view_type(params.raw("view_type")),
        params.integer("max_results", default=1000, low=1, high=MAX_SEARCH_RESULTS) or 1000,
        params.text("filter"),
        params.strings("order_by"),
        params.text("page_token"),
    )
    return wire.compact({"experiments": [wire.experiment(e) for e in page], "next_page_token": page.token})


@endpoints("POST", ADMIN, "experiments/delete")
def delete_experiment(call: Call) -> Json:
    call.tracking.delete_experiment(call.params.need("experiment_id"))
    return {}


@endpoints("POST", ADMIN, "experiments/restore")
def restore_experiment(call: Call) -> Json:
    call.tracking.restore_experiment(call.params.need("experiment_id"))
    return {}


@endpoints("POST", EDIT, "experiments/update")
def update_experiment(call: Call) -> Json:
    new_name = call.params.text("new_name")
    if new_name:
        call.tracking.rename_experiment(call.params.need("experiment_id"), new_name)
    return {}


@endpoints("POST", EDIT, "experiments/set-experiment-tag")
def set_experiment_tag(call: Call) -> Json:
    params = call.params
    call.tracking.set_experiment_tag(params.need("experiment_id"), params.need("key"), params.text("value") or "")
    return {}


@endpoints("POST", EDIT, "experiments/delete-experiment-tag")
def delete_experiment_tag(call: Call) -> Json:
    call.tracking.delete_experiment_tag(call.params.need("experiment_id"), call.params.need("key"))
    return {}


@endpoints("POST", READ, "experiments/search-datasets")
def search_datasets(call: Call) -> Json:
    found = call.tracking.search_datasets(call.params.strings("experiment_ids"))
    return wire.compact({"dataset_summaries": [wire.dataset_summary(s) for s in found]})


# runs -------------------------------------------------------------------------------------------------


@endpoints("POST", EDIT, "runs/create")
def create_run(call: Call) -> Json:
    params = call.params
    run = call.tracking.create_run(
        params.text("experiment_id") or call.tracking.default_experiment_id(),
        user_id=params.text("user_id") or call.user,
        start_time=params.integer("start_time"),
        tags=params.key_values("tags"),
        run_name=params.text("run_name"),
    )
    return {"run": wire.run(run)}


@endpoints("POST", EDIT, "runs/update")
def update_run(call: Call) -> Json:
    params = call.params
    run_id = params.run_id()
    status = params.text("status") or call.tracking.get_run(run_id).info.status
    info = call.tracking.update_run_info(run_id, status, params.integer("end_time"), params.text("run_name"))
    return {"run_info": wire.run_info(info)}


@endpoints("POST", ADMIN, "runs/delete")
def delete_run(call: Call) -> Json:
    call.tracking.delete_run(call.params.run_id())
    return {}


@endpoints("POST", ADMIN, "runs/restore")
def restore_run(call: Call) -> Json:
    call.tracking.restore_run(call.params.run_id())
    return {}


@endpoints("GET", READ, "runs/get")
def get_run(call: Call) -> Json:
    return {"run": wire.run(call.tracking.get_run(call.params.run_id()))}


@endpoints("POST", READ, "runs/search")
@endpoints("GET", READ, "runs/search")
def search_runs(call: Call) -> Json:
    params = call.params
    page = call.tracking.search_runs(
        params.strings("experiment_ids"),
        params.text("filter"),
        view_type(params.raw("run_view_type")),
        params.integer("max_results", default=1000, low=1, high=MAX_SEARCH_RESULTS) or 1000,
        params.strings("order_by"),
        params.text("page_token"),
    )
    return wire.compact({"runs": [wire.run(r) for r in page], "next_page_token": page.token})


def _metric(document: dict[str, object], where: str, default_model: str | None = None) -> Metric:
    key = document.get("key")
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"Missing value for required parameter '{where}key'")
    if "value" not in document:
        raise InvalidInput(f"Missing value for required parameter '{where}value'")
    timestamp = document.get("timestamp")
    step = document.get("step", 0)
    try:
        timestamp_ms = now_ms() if timestamp in (None, "") else int(str(timestamp))
        step_number = int(str(step or 0))
    except ValueError:
        raise InvalidInput(f"Invalid timestamp or step for metric {key!r}") from None
    model_id = document.get("model_id") or default_model
    return Metric(
        key=key,
        value=to_float(document["value"], f"{where}value"),
        timestamp=timestamp_ms,
        step=step_number,
        model_id=str(model_id) if model_id else None,
        dataset_name=str(document["dataset_name"]) if document.get("dataset_name") else None,
        dataset_digest=str(document["dataset_digest"]) if document.get("dataset_digest") else None,
    )


@endpoints("POST", EDIT, "runs/log-metric")
def log_metric(call: Call) -> Json:
    params = call.params
    call.tracking.log_batch(params.run_id(), metrics=[_metric(dict(params.body) or _query_metric(call), "")])
    return {}


def _query_metric(call: Call) -> dict[str, object]:
    names = ("key", "value", "timestamp", "step", "model_id", "dataset_name", "dataset_digest")
    return {name: call.params.raw(name) for name in names if call.params.raw(name) is not None}


@endpoints("POST", EDIT, "runs/log-parameter")
def log_param(call: Call) -> Json:
    params = call.params
    call.tracking.log_param(params.run_id(), params.need("key"), params.text("value") or "")
    return {}


@endpoints("POST", EDIT, "runs/set-tag")
def set_tag(call: Call) -> Json:
    params = call.params
    call.tracking.set_tag(params.run_id(), params.need("key"), params.text("value") or "")
    return {}


@endpoints("POST", EDIT, "runs/delete-tag")
def delete_tag(call: Call) -> Json:
    call.tracking.delete_tag(call.params.run_id(), call.params.need("key"))
    return {}


@endpoints("POST", EDIT, "runs/log-batch")
def log_batch(call: Call) -> Json:
    params = call.params
    metrics = params.objects("metrics")
    param_items = params.key_values("params")
    tag_items = params.key_values("tags")
    if len(metrics) > MAX_BATCH_METRICS or len(param_items) > MAX_BATCH_PARAMS or len(tag_items) > MAX_BATCH_TAGS:
        raise InvalidInput(
            f"A batch logging request can contain at most {MAX_BATCH_METRICS} metrics, {MAX_BATCH_PARAMS} "
            f"params and {MAX_BATCH_TAGS} tags; got {len(metrics)}, {len(param_items)} and {len(tag_items)}"
        )
    if len(metrics) + len(param_items) + len(tag_items) > MAX_BATCH_TOTAL:
        raise InvalidInput(f"A batch logging request can contain at most {MAX_BATCH_TOTAL} items in all")
    model_id = params.text("model_id")
    call.tracking.log_batch(
        params.run_id(),
        metrics=[_metric(dict(m), f"metrics[{i}].", model_id) for i, m in enumerate(metrics)],
        params=[Param(k, v) for k, v in param_items.items()],
        tags=[RunTag(k, v) for k, v in tag_items.items()],
    )
    return {}


@endpoints("POST", EDIT, "runs/log-inputs")
def log_inputs(call: Call) -> Json:
    params = call.params
    datasets = []
    for item in params.objects("datasets"):
        dataset = item.get("dataset")
        if not isinstance(dataset, dict) or not dataset.get("name") or not dataset.get("digest"):
            raise InvalidInput("each of 'datasets' needs a dataset with a name and a digest")
        datasets.append(
            DatasetInput(
                Dataset(
                    name=str(dataset["name"]),
                    digest=str(dataset["digest"]),
                    source_type=str(dataset.get("source_type", "")),
                    source=str(dataset.get("source", "")),
                    schema=dataset.get("schema"),
                    profile=dataset.get("profile"),
                ),
                {str(t["key"]): str(t.get("value", "")) for t in item.get("tags") or [] if isinstance(t, dict)},
            )
        )
    models = [LoggedModelInput(str(m["model_id"])) for m in params.objects("models") if m.get("model_id")]
    call.tracking.log_inputs(params.run_id(), datasets, models)
    return {}


@endpoints("POST", EDIT, "runs/outputs")
def log_outputs(call: Call) -> Json:
    params = call.params
    models = [
        LoggedModelOutput(str(m["model_id"]), int(str(m.get("step") or 0)))
        for m in params.objects("models")
        if m.get("model_id")
    ]
    call.tracking.log_outputs(params.run_id(), models)
    return {}


# metric history -----------------------------------------------------------------------------------------


@endpoints("GET", READ, "metrics/get-history")
def get_metric_history(call: Call) -> Json:
    params = call.params
    page = call.tracking.get_metric_history(
        params.run_id(),
        params.need("metric_key"),
        params.integer("max_results", low=1, high=MAX_HISTORY_PAGE),
        params.text("page_token"),
    )
    return wire.compact({"metrics": [wire.metric(m) for m in page], "next_page_token": page.token})


@endpoints("GET", READ, "metrics/get-history-bulk-interval")
def get_metric_history_bulk_interval(call: Call) -> Json:
    params = call.params
    points = call.tracking.get_metric_history_bulk_interval(
        params.strings("run_ids"),
        params.need("metric_key"),
        params.integer("max_results", default=2500) or 2500,
        params.integer("start_step"),
        params.integer("end_step"),
    )
    return wire.compact({"metrics": [wire.metric(m) for m in points]})


@endpoints("GET", READ, "metrics/get-history-bulk")
def get_metric_history_bulk(call: Call) -> Json:
    params = call.params
    run_ids = params.strings("run_id")
    if not run_ids or len(run_ids) > 100:
        raise InvalidInput("between 1 and 100 run_id values are required")
    key = params.need("metric_key")
    points = []
    for run_id in run_ids:
        for m in call.tracking.get_metric_history(run_id, key):
            points.append({**wire.metric(m), "run_id": run_id})
    return wire.compact({"metrics": points})


# artifacts and server -----------------------------------------------------------------------------------


@endpoints("GET", READ, "artifacts/list")
def list_artifacts(call: Call) -> Json:
    from pack._fs import safe_relpath
    from pack.server.artifacts import listing

    run = call.tracking.get_run(call.params.run_id())
    call.locations.check_readable(run.info.artifact_uri)
    path = safe_relpath(call.params.text("path") or "")
    files = listing(call.locations.open(run.info.artifact_uri), path)
    base = f"{path}/" if path else ""
    return wire.compact({"root_uri": run.info.artifact_uri, "files": [wire.file_info(f, base + f.path) for f in files]})


@endpoints("GET", READ, "pack/users/current")
def current_user(call: Call) -> Json:
    """pack's extension: who the caller is and their role (``auth`` false: everyone may do everything).

    The web UI asks this one on every page: MLflow's ``users/current`` answers 404 without ``--auth``,
    which a browser counts as a failed request.
    """
    return {"username": call.user, "role": call.role or "admin", "auth": call.role is not None}


@endpoints("GET", READ, "server-info")
def server_info(call: Call) -> Json:
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }


__all__ = ["MAX_BATCH_METRICS", "view_type"]
