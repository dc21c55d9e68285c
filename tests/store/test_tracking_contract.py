"""The ``TrackingStore`` contract, on every backend: the SQL store (SQLite, PostgreSQL) and pack's REST store
against a real tracking server (``pack server``, and ``mlflow server`` as a conformance check)."""

from __future__ import annotations

import math
import sys

from devtools.tracking_servers import MLFLOW
from pack.errors import AlreadyExists, InvalidInput, NotFound
from pack.store.entities import LifecycleStage, Metric, Param, RunTag, ViewType
from tests.store.backends import Backend, backend

__all__ = ["backend"]


def test_default_experiment_and_experiment_crud(backend: Backend):
    store = backend.tracking
    default = store.get_experiment(store.default_experiment_id())
    assert (default.experiment_id, default.name) == ("0", "Default")
    assert default.artifact_location == f"{backend.artifact_root}/0"
    fraud, renamed, custom = backend.name("fraud"), backend.name("fraud-v2"), backend.name("custom")
    first = store.create_experiment(fraud, tags={"team": "risk"})
    experiment = store.get_experiment(first)
    assert (experiment.name, experiment.tags) == (fraud, {"team": "risk"})
    assert experiment.artifact_location == f"{backend.artifact_root}/{first}"
    assert experiment.creation_time and experiment.last_update_time
    if not backend.remote:  # a server decides where experiments keep their files
        other = store.create_experiment(custom, artifact_location="s3://bucket/prefix")
        assert store.get_experiment(other).artifact_location == "s3://bucket/prefix"
    with backend.raises(AlreadyExists):
        store.create_experiment(fraud)
    with backend.raises(InvalidInput):
        store.create_experiment("")
    if backend.kind != MLFLOW:  # MLflow's server takes a blank name
        with backend.raises(InvalidInput):
            store.create_experiment("  ")
    store.rename_experiment(first, renamed)
    store.set_experiment_tag(first, "team", "ml")
    assert store.get_experiment_by_name(renamed).tags == {"team": "ml"}
    assert store.get_experiment_by_name(fraud) is None
    store.delete_experiment(first)
    assert store.get_experiment(first).lifecycle_stage == LifecycleStage.DELETED.value
    mine = f"name LIKE '%{backend.suffix}'"
    assert renamed not in [e.name for e in store.search_experiments(filter_string=mine)]
    assert [e.name for e in store.search_experiments(ViewType.DELETED_ONLY, filter_string=mine)] == [renamed]
    with backend.raises(InvalidInput, match="deleted"):
        store.create_run(first, user_id="u")
    store.restore_experiment(first)
    assert [e.name for e in store.search_experiments(filter_string=f"name LIKE 'fraud%{backend.suffix}'")] == [renamed]
    with backend.raises(NotFound):
        store.get_experiment("999999")
    with backend.raises(InvalidInput if backend.kind == MLFLOW else NotFound):  # MLflow: not an integer
        store.get_experiment("not-a-number")


def test_experiment_search_pages_and_orders(backend: Backend):
    store = backend.tracking
    names = [backend.name(f"page{i}") for i in range(5)]
    for name in names:
        store.create_experiment(name, tags={"group": backend.suffix})
    query = f"tags.group = '{backend.suffix}'"
    first = store.search_experiments(max_results=2, filter_string=query, order_by=["name ASC"])
    assert [e.name for e in first] == names[:2] and first.token
    rest = store.search_experiments(max_results=10, filter_string=query, order_by=["name ASC"], page_token=first.token)
    assert [e.name for e in rest] == names[2:] and rest.token is None
    assert [e.name for e in store.search_experiments(filter_string=query, order_by=["name DESC"])] == names[::-1]


def test_run_lifecycle_params_metrics_tags(backend: Backend):
    store = backend.tracking
    run = store.create_run("0", user_id="alice", run_name="first", tags={"k": "v"})
    run_id = run.info.run_id
    assert (run.info.status, run.info.run_name, run.info.user_id) == ("RUNNING", "first", "alice")
    assert run.info.artifact_uri == f"{backend.artifact_root}/0/{run_id}/artifacts"
    assert run.data.tags == {"k": "v", "mlflow.runName": "first", "mlflow.user": "alice"}
    store.log_param(run_id, "depth", 8)
    store.log_param(run_id, "depth", "8")  # same value again: fine
    with backend.raises(InvalidInput, match="immutable"):
        store.log_param(run_id, "depth", 9)
    with backend.raises(InvalidInput, match="immutable"):  # a batch with a changed param writes nothing
        store.log_batch(run_id, metrics=[Metric("never", 1.0, 1, 0)], params=[Param("depth", "10")])
    for step, value in enumerate([0.5, 0.25, math.nan, 0.125]):
        store.log_metric(run_id, Metric("loss", value, 1000 + step, step))
    store.log_metric(run_id, Metric("big", math.inf, 1, 0))
    store.log_batch(run_id, metrics=[Metric("acc", 0.9, 5, 0)], tags=[RunTag("stage", "train")])
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert math.isnan(history[2].value) and history[3].value == 0.125
    loaded = store.get_run(run_id)
    # MLflow's SQL store clamps infinities to the largest double
    big = sys.float_info.max if backend.kind == MLFLOW else math.inf
    assert loaded.data.metrics == {"loss": 0.125, "acc": 0.9, "big": big}
    assert loaded.data.params == {"depth": "8"}
    assert "never" not in loaded.data.metrics
    assert loaded.data.tags["stage"] == "train"
    store.delete_tag(run_id, "stage")
    assert "stage" not in store.get_run(run_id).data.tags
    with backend.raises(NotFound):
        store.delete_tag(run_id, "stage")
    info = store.update_run_info(run_id, "finished", end_time=2000, run_name="renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 2000, "renamed")
    assert store.get_run(run_id).data.tags["mlflow.runName"] == "renamed"
    with backend.raises(InvalidInput, match="unknown run status"):
        store.update_run_info(run_id, "DONE")
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED.value
    with backend.raises(InvalidInput, match="deleted"):
        store.log_param(run_id, "x", 1)
    store.restore_run(run_id)
    for bad_key in ("", "x" * 300):
        with backend.raises(InvalidInput):
            store.log_param(run_id, bad_key, 1)
    with backend.raises(InvalidInput, match="must be a number"):
        store.log_metric(run_id, Metric("acc", "high", 1, 0))  # type: ignore[arg-type]
    with backend.raises(NotFound):
        store.get_run("0" * 32)


def test_metric_history_pages_and_large_batches(backend: Backend):
    store = backend.tracking
    run_id = store.create_run("0", user_id="u").info.run_id
    metrics = [Metric("loss", 1.0 / (step + 1), 1000 + step, step) for step in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]  # more than one request carries on a server
    store.log_batch(run_id, metrics=metrics, params=params)
    assert [m.step for m in store.get_metric_history(run_id, "loss")] == list(range(2500))
    page = store.get_metric_history(run_id, "loss", max_results=1000)
    assert len(page) == 1000 and page.token
    rest = store.get_metric_history(run_id, "loss", max_results=2000, page_token=page.token)
    assert [m.step for m in page] + [m.step for m in rest] == list(range(2500)) and rest.token is None
    assert len(store.get_run(run_id).data.params) == 150


def test_search_runs(backend: Backend):
    store = backend.tracking
    experiment = store.create_experiment(backend.name("search"))
    runs = []
    for depth, acc in ((4, 0.7), (8, 0.9), (16, 0.8)):
        run = store.create_run(experiment, user_id="u", run_name=f"d{depth}", start_time=depth)
        store.log_batch(
            run.info.run_id,
            metrics=[Metric("acc", acc - 0.5, 1, 0), Metric("acc", acc, 2, 1)],  # latest value counts
            params=[Param("depth", str(depth))],
            tags=[RunTag("family", "tree")],
        )
        runs.append(run.info.run_id)

    def names(query="", order_by=None, **kwargs):
        return [r.info.run_name for r in store.search_runs([experiment], query, order_by=order_by, **kwargs)]

    assert names() == ["d16", "d8", "d4"]  # newest first
    assert names("metrics.acc > 0.75") == ["d16", "d8"]
    assert names("metrics.acc > 0.75", ["metrics.acc DESC"]) == ["d8", "d16"]
    assert names("", ["metrics.`acc` ASC"]) == ["d4", "d16", "d8"]  # keys may be back-quoted, as in filters
    if backend.kind != MLFLOW:  # MLflow's server takes only back-quotes in order_by
        assert names("", ['params."depth" DESC']) == ["d8", "d4", "d16"]  # params order as strings
    assert names("params.depth = '8'") == ["d8"]
    assert names("tags.family = 'tree' AND attributes.run_name LIKE 'd1%'") == ["d16"]
    assert names("attributes.status = 'RUNNING'", ["attributes.start_time ASC"]) == ["d4", "d8", "d16"]
    page = store.search_runs([experiment], max_results=2)
    assert len(page) == 2 and page.token
    assert [r.info.run_name for r in store.search_runs([experiment], page_token=page.token)] == ["d4"]
    store.delete_run(runs[0])
    assert names() == ["d16", "d8"]
    assert [r.info.run_name for r in store.search_runs([experiment], run_view_type=ViewType.ALL)] == [
        "d16",
        "d8",
        "d4",
    ]
    for query in ("metrics.acc > 'high'", "attributes.colour = 'x'", "params.depth > '3'"):
        with backend.raises(InvalidInput):
            store.search_runs([experiment], query)
