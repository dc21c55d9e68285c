"""The SQL tracking store on SQLite and PostgreSQL: experiments, runs, params, metric history, search."""

from __future__ import annotations

import math

import pytest

from pack.errors import AlreadyExists, InvalidInput, NotFound
from pack.registry.default import process_default
from pack.store.entities import LifecycleStage, Metric, Param, RunTag, ViewType


@pytest.fixture
def store(settings):
    return process_default().services(settings).tracking


def test_default_experiment_and_experiment_crud(store, settings):
    assert store.get_experiment("0").name == "Default"
    assert store.get_experiment("0").artifact_location == f"{settings.default_artifact_root}/0"
    first = store.create_experiment("fraud", tags={"team": "risk"})
    experiment = store.get_experiment(first)
    assert (experiment.name, experiment.tags) == ("fraud", {"team": "risk"})
    assert experiment.artifact_location == f"{settings.default_artifact_root}/{first}"
    custom = store.create_experiment("custom", artifact_location="s3://bucket/prefix")
    assert store.get_experiment(custom).artifact_location == "s3://bucket/prefix"
    with pytest.raises(AlreadyExists):
        store.create_experiment("fraud")
    with pytest.raises(InvalidInput):
        store.create_experiment("  ")
    store.rename_experiment(first, "fraud-v2")
    store.set_experiment_tag(first, "team", "ml")
    assert store.get_experiment_by_name("fraud-v2").tags == {"team": "ml"}
    assert store.get_experiment_by_name("fraud") is None
    store.delete_experiment(first)
    assert store.get_experiment(first).lifecycle_stage == LifecycleStage.DELETED.value
    assert "fraud-v2" not in [e.name for e in store.search_experiments()]
    assert [e.name for e in store.search_experiments(ViewType.DELETED_ONLY)] == ["fraud-v2"]
    with pytest.raises(InvalidInput, match="deleted"):
        store.create_run(first, user_id="u")
    store.restore_experiment(first)
    assert [e.name for e in store.search_experiments(filter_string="name LIKE 'fraud%'")] == ["fraud-v2"]
    with pytest.raises(NotFound):
        store.get_experiment("999")
    with pytest.raises(NotFound):
        store.get_experiment("not-a-number")


def test_run_lifecycle_params_metrics_tags(store, settings):
    run = store.create_run("0", user_id="alice", run_name="first", tags={"k": "v"})
    run_id = run.info.run_id
    assert (run.info.status, run.info.run_name, run.info.user_id) == ("RUNNING", "first", "alice")
    assert run.info.artifact_uri == f"{settings.default_artifact_root}/0/{run_id}/artifacts"
    assert run.data.tags == {"k": "v", "mlflow.runName": "first", "mlflow.user": "alice"}
    store.log_param(run_id, "depth", 8)
    store.log_param(run_id, "depth", "8")  # same value again: fine
    with pytest.raises(InvalidInput, match="immutable"):
        store.log_param(run_id, "depth", 9)
    with pytest.raises(InvalidInput, match="immutable"):  # a batch with a changed param writes nothing
        store.log_batch(run_id, metrics=[Metric("never", 1.0, 1, 0)], params=[Param("depth", "10")])
    for step, value in enumerate([0.5, 0.25, math.nan, 0.125]):
        store.log_metric(run_id, Metric("loss", value, 1000 + step, step))
    store.log_batch(run_id, metrics=[Metric("acc", 0.9, 5, 0)], tags=[RunTag("stage", "train")])
    history = store.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3]
    assert math.isnan(history[2].value) and history[3].value == 0.125
    loaded = store.get_run(run_id)
    assert loaded.data.metrics == {"loss": 0.125, "acc": 0.9}
    assert loaded.data.params == {"depth": "8"}
    assert "never" not in loaded.data.metrics
    assert loaded.data.tags["stage"] == "train"
    store.delete_tag(run_id, "stage")
    with pytest.raises(NotFound):
        store.delete_tag(run_id, "stage")
    info = store.update_run_info(run_id, "finished", end_time=2000, run_name="renamed")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 2000, "renamed")
    with pytest.raises(InvalidInput, match="unknown run status"):
        store.update_run_info(run_id, "DONE")
    store.delete_run(run_id)
    with pytest.raises(InvalidInput, match="deleted"):
        store.log_param(run_id, "x", 1)
    store.restore_run(run_id)
    for bad_key in ("", "x" * 300):
        with pytest.raises(InvalidInput, match="invalid key"):
            store.log_param(run_id, bad_key, 1)
    with pytest.raises(InvalidInput, match="must be a number"):
        store.log_metric(run_id, Metric("acc", "high", 1, 0))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.get_run("0" * 32)


def test_search_runs(store):
    experiment = store.create_experiment("search")
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
        with pytest.raises(InvalidInput):
            store.search_runs([experiment], query)
