"""``pack.Client``'s tracking methods (MLflow's ``MlflowClient``): runs, artifacts, search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import pack
from pack.errors import InvalidInput, NotFound
from pack.store.entities import Metric, Param, RunTag


def test_runs_and_artifacts(workdir, tmp_path):
    client = pack.Client()
    experiment_id = client.create_experiment("exp", tags={"team": "ml"})
    run = client.create_run(experiment_id, run_name="r1", tags={"source": "test"})
    run_id = run.info.run_id
    assert client.log_param(run_id, "lr", 0.1) == 0.1
    client.log_metric(run_id, "acc", 0.9, timestamp=5, step=1)
    client.log_batch(run_id, metrics=[Metric("f1", 0.8, 6, 1)], params=[Param("depth", "3")], tags=[RunTag("t", "1")])
    client.set_tag(run_id, "stage", "dev")
    client.delete_tag(run_id, "stage")
    client.log_dict(run_id, {"a": [1, 2]}, "config/params.json")
    client.log_dict(run_id, {"b": 3}, "config/params.yaml")
    client.log_text(run_id, "notes", "notes.md")
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "sub" / "x.txt").write_text("x")
    client.log_artifacts(run_id, tmp_path / "dir", "data")
    client.log_artifact(run_id, tmp_path / "dir", "copy")
    assert [a.path for a in client.list_artifacts(run_id)] == ["config", "copy", "data", "notes.md"]
    assert [a.path for a in client.list_artifacts(run_id, "data/sub")] == ["data/sub/x.txt"]
    downloaded = Path(client.download_artifacts(run_id, "config", str(tmp_path / "out")))
    assert json.loads((downloaded / "params.json").read_text()) == {"a": [1, 2]}
    assert yaml.safe_load((downloaded / "params.yaml").read_text()) == {"b": 3}
    client.update_run(run_id, name="renamed")
    client.set_terminated(run_id, "KILLED")
    final = client.get_run(run_id)
    assert (final.info.status, final.info.run_name) == ("KILLED", "renamed")
    assert final.data.params == {"lr": "0.1", "depth": "3"} and final.data.metrics == {"acc": 0.9, "f1": 0.8}
    assert "stage" not in final.data.tags and final.data.tags["t"] == "1"
    found = client.search_runs(experiment_id, "params.depth = '3' AND attributes.status = 'KILLED'")
    assert [r.info.run_id for r in found] == [run_id]
    assert client.search_experiments(filter_string="tags.team = 'ml'")[0].name == "exp"
    with pytest.raises(NotFound):
        client.download_artifacts(run_id, "absent")
    with pytest.raises(InvalidInput):
        client.download_artifacts(run_id, "../../etc")
    with pytest.raises(NotFound):
        client.log_artifact(run_id, tmp_path / "absent.txt")


def test_client_registry_extras(workdir, trained):
    client = pack.Client()
    client.create_registered_model("m", tags={"k": "v"}, description="d")
    version = client.create_model_version("m", str(trained[0]), tags={"stage": "candidate"}, description="v1")
    assert (version.tags, version.description) == ({"stage": "candidate"}, "v1")
    assert client.get_model_version_download_uri("m", "1") == version.storage_location
    assert client.get_model_version_stages("m", 1) == ["None", "Staging", "Production", "Archived"]
    client.transition_model_version_stage("m", "1", "Staging")
    client.set_model_version_tag("m", stage="Staging", key="checked", value=True)
    assert client.get_model_version("m", 1).tags["checked"] == "True"
    client.delete_model_version_tag("m", "1", "checked")
    assert client.update_model_version("m", 1, "new").description == "new"
    assert client.update_registered_model("m", "model d").description == "model d"
    copied = client.copy_model_version("models:/m/1", "m-copy")
    assert (copied.name, copied.version, copied.source) == ("m-copy", 1, "models:/m/1")
    with pytest.raises(InvalidInput, match="pass version or stage"):
        client.set_model_version_tag("m", key="x", value="y")
