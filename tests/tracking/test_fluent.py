"""The fluent API's run handling: nesting, statuses, auto-start, experiments, log_model rules."""

from __future__ import annotations

import numpy as np
import pytest

import pack
from pack.errors import AlreadyExists, InvalidInput, NotFound


def test_nested_runs_record_their_parent(workdir):
    with pack.start_run(run_name="parent") as parent:
        with pack.start_run(run_name="child", nested=True) as child:
            assert pack.active_run().info.run_id == child.info.run_id
        assert pack.active_run().info.run_id == parent.info.run_id
        with pytest.raises(InvalidInput, match="already active"):
            pack.start_run()
    assert pack.active_run() is None
    client = pack.Client()
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert client.get_parent_run(child.info.run_id).info.run_name == "parent"
    assert client.get_parent_run(parent.info.run_id) is None
    assert pack.last_active_run().info.run_id == parent.info.run_id


def test_a_run_that_raises_ends_failed(workdir):
    with pytest.raises(ZeroDivisionError), pack.start_run() as run:
        pack.log_param("x", 1)
        _ = 1 / 0
    assert pack.get_run(run.info.run_id).info.status == "FAILED"
    assert pack.active_run() is None


def test_logging_without_a_run_starts_one(workdir):
    pack.log_metric("acc", 0.5)
    run = pack.active_run()
    assert run is not None and run.info.experiment_id == "0"
    pack.end_run()
    finished = pack.get_run(run.info.run_id)
    assert (finished.info.status, finished.data.metrics) == ("FINISHED", {"acc": 0.5})


def test_set_experiment_creates_and_selects(workdir):
    experiment = pack.set_experiment("fraud-detection")
    assert pack.get_experiment_by_name("fraud-detection").experiment_id == experiment.experiment_id
    with pack.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    assert pack.set_experiment(experiment_id=experiment.experiment_id).name == "fraud-detection"
    with pytest.raises(InvalidInput):
        pack.set_experiment()
    with pytest.raises(NotFound):
        pack.set_experiment(experiment_id="999")
    pack.Client().delete_experiment(experiment.experiment_id)
    with pytest.raises(InvalidInput, match="deleted"):
        pack.set_experiment("fraud-detection")


def test_tracking_uri_can_be_switched(workdir):
    assert pack.get_tracking_uri() == f"sqlite:///{workdir}/pack.db"
    pack.set_tracking_uri("sqlite:///other.db")
    assert pack.get_tracking_uri() == f"sqlite:///{workdir}/other.db"
    assert pack.get_registry_uri() == pack.get_tracking_uri()
    with pack.start_run():
        pack.log_param("where", "other")
    assert (workdir / "other.db").is_file() and not (workdir / "pack.db").exists()
    pack.set_tracking_uri("mysql://nope/db")
    with pytest.raises(InvalidInput, match="unsupported database"):
        pack.start_run()


def test_log_model_names_and_conflicts(workdir, trained):
    _, estimator, features = trained
    with pack.start_run() as run:
        info = pack.log_model(estimator, "clf", input_example=features.head(2))
        assert (info.name, info.model_uri) == ("clf", f"runs:/{run.info.run_id}/clf")
        assert info.signature is not None and info.flavors.keys() == {"sklearn", "python_function"}
        assert pack.get_artifact_uri("clf").endswith(f"{run.info.run_id}/artifacts/clf")
        with pytest.raises(AlreadyExists, match="already has an artifact 'clf'"):
            pack.log_model(estimator, "clf")
        with pytest.raises(InvalidInput, match="differ"):
            pack.log_model(estimator, name="a", artifact_path="b")
        with pytest.raises(InvalidInput, match=r"must not contain '\.\.'"):
            pack.log_model(estimator, "../outside")
        with pytest.raises(InvalidInput, match=r"must not contain '\.\.'"):
            pack.log_artifact(__file__, "../../escape")
        default = pack.log_model(estimator)
    assert default.artifact_path == "model"
    loaded = pack.pyfunc.load_model(info.model_uri)
    assert loaded.metadata.run_id == run.info.run_id and loaded.metadata.artifact_path == "clf"
    assert np.array_equal(loaded.predict(features.head(4)), estimator.predict(features.head(4)))
    assert sorted(a.path for a in pack.Client().list_artifacts(run.info.run_id)) == ["clf", "model"]
    assert not list((workdir / "packruns").rglob("outside")) and not list(workdir.parent.glob("escape"))


def test_register_model_from_a_run(workdir, trained):
    estimator = trained[1]
    with pack.start_run() as run:
        pack.log_model(estimator, "clf")
    first = pack.register_model(f"runs:/{run.info.run_id}/clf", "iris", tags={"owner": "ml"})
    second = pack.register_model(f"runs:/{run.info.run_id}/clf", "iris")
    assert (first.version, second.version, first.run_id, first.tags) == (1, 2, run.info.run_id, {"owner": "ml"})
    with pytest.raises(NotFound):
        pack.register_model(f"runs:/{run.info.run_id}/nothing", "iris")
    with pytest.raises(InvalidInput, match="invalid model name"):
        pack.register_model(f"runs:/{run.info.run_id}/clf", "bad/name")
    assert [v.version for v in pack.Client().search_model_versions("name='iris'")] == [2, 1]


def test_separate_registry_database(workdir, trained, monkeypatch):
    from pack.registry.default import process_default

    monkeypatch.setenv("PACK_REGISTRY_URI", "sqlite:///registry.db")
    process_default().reset()
    with pack.start_run() as run:
        pack.log_model(trained[1], "clf", registered_model_name="iris")
    assert pack.get_registry_uri() == f"sqlite:///{workdir}/registry.db"
    assert pack.Client(registry_uri=f"sqlite:///{workdir}/pack.db").search_registered_models() == []
    assert pack.Client().get_model_version("iris", 1).run_id == run.info.run_id
    assert pack.pyfunc.load_model("models:/iris/1").metadata.run_id == run.info.run_id


def test_pack_run_id_makes_start_run_resume_that_run(workdir, monkeypatch):
    project_run = pack.Client().create_run("0", run_name="from pack run")
    monkeypatch.setenv("PACK_RUN_ID", project_run.info.run_id)
    with pack.start_run() as run:
        pack.log_param("p", 1)
        with pack.start_run(nested=True) as child:
            assert child.info.run_id != run.info.run_id
    assert run.info.run_id == project_run.info.run_id
    assert pack.get_run(run.info.run_id).data.params == {"p": "1"}
    pack.log_metric("m", 2.0)  # an auto-started run resumes it too
    assert pack.active_run().info.run_id == project_run.info.run_id
    pack.end_run()
    monkeypatch.setenv("PACK_RUN_ID", "0" * 32)
    with pytest.raises(NotFound):
        pack.start_run()
