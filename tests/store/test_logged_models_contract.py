"""MLflow 3's parts of the ``TrackingStore`` contract, on every backend (SQL in process; pack's REST store
against ``pack server`` and ``mlflow server``): logged models, metrics attached to them, run
inputs/outputs, datasets, down-sampled metric history, experiment tag deletion."""

from __future__ import annotations

import math

import pytest

from devtools.tracking_servers import MLFLOW
from pack.errors import InvalidInput, NotFound, RegistryError
from pack.store.entities import (
    Dataset,
    DatasetInput,
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
)
from tests.store.backends import Backend, backend

__all__ = ["backend"]


def test_logged_model_lifecycle(backend: Backend):
    store = backend.tracking
    default = store.default_experiment_id()  # before anything else used it (the SQL backends are new)
    assert store.create_logged_model(default, backend.name("first")).experiment_id == default
    experiment = store.create_experiment(backend.name("lm"))
    run = store.create_run(experiment, user_id="alice")
    model = store.create_logged_model(
        experiment, "model", source_run_id=run.info.run_id, tags={"a": "1"}, params={"alpha": "0.5"}
    )
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert model.status == LoggedModelStatus.PENDING.value
    location = store.get_experiment(experiment).artifact_location
    assert model.artifact_location == f"{location}/models/{model.model_id}/artifacts"
    assert (model.tags, model.params, model.source_run_id) == ({"a": "1"}, {"alpha": "0.5"}, run.info.run_id)
    assert store.finalize_logged_model(model.model_id, "READY").status == "LOGGED_MODEL_READY"
    with backend.raises(InvalidInput, match="unknown logged model status"):
        store.finalize_logged_model(model.model_id, "DONE")
    assert store.set_logged_model_tags(model.model_id, {"a": "2", "b": "3"}).tags == {"a": "2", "b": "3"}
    store.delete_logged_model_tag(model.model_id, "a")
    if backend.kind != MLFLOW:  # MLflow's server deletes a missing tag silently
        with backend.raises(NotFound):
            store.delete_logged_model_tag(model.model_id, "a")
    store.log_logged_model_params(model.model_id, {"beta": "1"})
    assert store.get_logged_model(model.model_id).params == {"alpha": "0.5", "beta": "1"}

    other = store.create_logged_model(experiment, "other")
    assert other.name == "other" and other.source_run_id is None
    found = store.search_logged_models([experiment], "name = 'model'")
    assert [m.model_id for m in found] == [model.model_id]
    assert {m.name for m in store.search_logged_models([experiment])} == {"model", "other"}
    assert [m.model_id for m in store.search_logged_models([experiment], "tags.b = '3' AND params.beta = '1'")] == [
        model.model_id
    ]
    first = store.search_logged_models([experiment], max_results=1, order_by=["name ASC"])
    assert [m.name for m in first] == ["model"] and first.token
    assert [
        m.name
        for m in store.search_logged_models([experiment], max_results=1, order_by=["name ASC"], page_token=first.token)
    ] == ["other"]
    with backend.raises(RegistryError if backend.kind == MLFLOW else InvalidInput):  # MLflow's server: a 500
        store.search_logged_models([experiment], "colour = 'red'")

    store.delete_logged_model(other.model_id)
    with backend.raises(NotFound):
        store.get_logged_model(other.model_id)
    assert [m.name for m in store.search_logged_models([experiment])] == ["model"]


def test_metrics_for_a_logged_model_land_once_in_the_run_history(backend: Backend):
    store = backend.tracking
    experiment = store.create_experiment(backend.name("lm-metrics"))
    run_id = store.create_run(experiment, user_id="alice").info.run_id
    store.log_batch(run_id, metrics=[Metric("acc", 0.8, 100, 0), Metric("acc", 0.9, 200, 1)])
    model = store.create_logged_model(experiment, "model", source_run_id=run_id)
    # MLflow's log_model copies the run's current metrics onto the model it logs
    copied = [
        Metric("acc", 0.9, 200, 1, model_id=model.model_id),
        Metric("nan", math.nan, 300, 0, model_id=model.model_id),
    ]
    store.log_batch(run_id, metrics=copied)
    history = store.get_metric_history(run_id, "acc")
    assert [(m.value, m.step) for m in history] == [(0.8, 0), (0.9, 1)]
    assert math.isnan(store.get_metric_history(run_id, "nan")[0].value)
    metrics = {m.key: m for m in store.get_logged_model(model.model_id).metrics}
    assert metrics["acc"].value == 0.9 and metrics["acc"].run_id == run_id
    if backend.kind != MLFLOW:  # MLflow's server answers a logged model's NaN as 0
        assert math.isnan(metrics["nan"].value)
    assert [m.model_id for m in store.search_logged_models([experiment], "metrics.acc > 0.85")] == [model.model_id]
    if backend.kind != MLFLOW:  # MLflow's server records metrics for a logged model that does not exist
        with backend.raises(NotFound, match="logged model"):
            store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, 0, model_id="m-missing")])
        assert len(store.get_metric_history(run_id, "acc")) == 2  # nothing of the failed batch


def test_run_inputs_outputs_and_datasets(backend: Backend):
    store = backend.tracking
    experiment = store.create_experiment(backend.name("io"))
    run_id = store.create_run(experiment, user_id="alice").info.run_id
    dataset = Dataset("iris", "abc123", "code", '{"x": 1}', schema='{"cols": []}')
    model = store.create_logged_model(experiment, "model", source_run_id=run_id)
    store.log_inputs(run_id, [DatasetInput(dataset, {"mlflow.data.context": "training"})], [LoggedModelInput("m-in")])
    store.log_inputs(run_id, [DatasetInput(dataset, {"mlflow.data.context": "training"})])  # again: no duplicate
    store.log_outputs(run_id, [LoggedModelOutput(model.model_id, 3)])
    run = store.get_run(run_id)
    assert run.inputs.dataset_inputs == (DatasetInput(dataset, {"mlflow.data.context": "training"}),)
    assert run.inputs.model_inputs == (LoggedModelInput("m-in"),)
    assert run.outputs.model_outputs == (LoggedModelOutput(model.model_id, 3),)
    assert [(s.name, s.digest, s.context) for s in store.search_datasets([experiment])] == [
        ("iris", "abc123", "training")
    ]
    assert store.search_runs([experiment])[0].outputs == run.outputs


def test_metric_history_bulk_interval_samples_each_run_keeping_first_and_last(backend: Backend):
    store = backend.tracking
    experiment = store.create_experiment(backend.name("charts"))
    short = store.create_run(experiment, user_id="alice").info.run_id
    long = store.create_run(experiment, user_id="alice").info.run_id
    store.log_batch(short, metrics=[Metric("loss", float(s), s, s) for s in range(5)])
    store.log_batch(long, metrics=[Metric("loss", float(s), s, s) for s in range(1000)])
    points = store.get_metric_history_bulk_interval([short, long], "loss", max_results=10)
    by_run: dict[str, list[int]] = {}
    for point in points:
        by_run.setdefault(point.run_id, []).append(point.step)
    assert by_run[short] == [0, 1, 2, 3, 4]
    assert len(by_run[long]) == 10 and by_run[long][0] == 0 and by_run[long][-1] == 999
    assert by_run[long] == sorted(by_run[long])
    window = [p.step for p in store.get_metric_history_bulk_interval([long], "loss", 3, 100, 200)]
    expected = [100, 134, 200] if backend.kind == MLFLOW else [100, 150, 200]  # MLflow's own spacing
    assert window == expected
    with backend.raises(InvalidInput):
        store.get_metric_history_bulk_interval([long], "loss", start_step=5)
    with backend.raises(InvalidInput):
        store.get_metric_history_bulk_interval([long] * 101, "loss")


def test_metric_history_bulk_interval_spreads_sparse_steps_along_the_step_axis(backend: Backend):
    if backend.kind == MLFLOW:
        pytest.skip("MLflow's server samples and picks latest values its own way")
    store = backend.tracking
    experiment = store.create_experiment(backend.name("sparse"))
    run = store.create_run(experiment, user_id="alice").info.run_id
    steps = [*range(0, 50), *range(1000, 1100, 10), 2**60, 2**61]  # dense start, sparse middle, huge tail
    store.log_batch(run, metrics=[Metric("loss", float(i), i, s) for i, s in enumerate(steps)])
    store.log_batch(run, metrics=[Metric("loss", math.nan, 99, 7)])  # a second value at step 7
    every = store.get_metric_history_bulk_interval([run], "loss", max_results=100)
    assert [p.step for p in every] == sorted([*steps, 7])
    assert math.isnan(next(p.value for p in every if p.step == 7 and p.timestamp == 99))
    few = [p.step for p in store.get_metric_history_bulk_interval([run], "loss", max_results=5)]
    assert few == [0, 2**60, 2**61]  # the first step at or after each target: 0, 2**59, 2**60, ...
    window = [p.step for p in store.get_metric_history_bulk_interval([run], "loss", 4, 0, 1090)]
    assert window == [0, 1000, 1090]  # targets 0, 363, 726, 1090
    assert [p.step for p in store.get_metric_history_bulk_interval([run], "loss", 1, 1000, 1090)] == [1000]
    assert store.get_metric_history_bulk_interval([run], "other", max_results=10) == []


def test_metric_history_bulk_interval_picks_evenly_spaced_steps_of_a_long_history(backend: Backend):
    if backend.kind == MLFLOW:
        pytest.skip("MLflow's server samples and picks latest values its own way")
    store = backend.tracking
    experiment = store.create_experiment(backend.name("long"))
    run = store.create_run(experiment, user_id="alice").info.run_id
    for start in range(0, 20_000, 1000):
        store.log_batch(run, metrics=[Metric("loss", 1 / (s + 1), s, s) for s in range(start, start + 1000)])
    points = store.get_metric_history_bulk_interval([run], "loss", max_results=101)
    assert [p.step for p in points] == [i * 19_999 // 100 for i in range(101)]
    assert all(p.value == 1 / (p.step + 1) and p.run_id == run for p in points)


def test_latest_metric_values_come_from_the_index_for_long_and_short_histories(backend: Backend):
    if backend.kind == MLFLOW:
        pytest.skip("MLflow's server samples and picks latest values its own way")
    store = backend.tracking
    experiment = store.create_experiment(backend.name("latest"))
    long = store.create_run(experiment, user_id="alice").info.run_id
    short = store.create_run(experiment, user_id="alice").info.run_id
    store.log_batch(long, metrics=[Metric("loss", 1 / (s + 1), s, s) for s in range(20_000)])
    store.log_batch(long, metrics=[Metric("loss", 5.0, 1, 19_999)])  # same top step, older: not the latest
    store.log_batch(long, metrics=[Metric("acc", 0.1, 7, 3), Metric("acc", 0.2, 7, 3)])  # a tie: the last logged
    store.log_batch(long, metrics=[Metric("a b/c", math.nan, 1, 0)])
    store.log_batch(short, metrics=[Metric("loss", 2.0, 5, 0), Metric("loss", 1.0, 9, 0)])  # a later time wins
    metrics = store.get_run(long).data.metrics
    assert metrics["loss"] == 1 / 20_000 and metrics["acc"] == 0.2 and math.isnan(metrics["a b/c"])
    assert sorted(metrics) == ["a b/c", "acc", "loss"]
    found = {r.info.run_id: r.data.metrics for r in store.search_runs([experiment])}
    assert found[short] == {"loss": 1.0} and found[long]["loss"] == 1 / 20_000
    assert store.get_run(store.create_run(experiment, user_id="alice").info.run_id).data.metrics == {}


def test_experiment_tags_can_be_deleted(backend: Backend):
    store = backend.tracking
    experiment = store.create_experiment(backend.name("tagged"), tags={"a": "1", "b": "2"})
    store.delete_experiment_tag(experiment, "a")
    assert store.get_experiment(experiment).tags == {"b": "2"}
    with backend.raises(NotFound):
        store.delete_experiment_tag(experiment, "a")
