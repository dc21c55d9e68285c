"""pack's own client against a real tracking server (``pack server``; ``mlflow server`` as a conformance check):
``PACK_TRACKING_URI=http://...`` or ``pack.set_tracking_uri`` and nothing else changes for the fluent API and
``pack.Client``; registered files are downloaded into the cache once and verified before every use."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
import pytest

import pack
from devtools.tracking_servers import MLFLOW
from pack.errors import InvalidModel
from pack.registry.default import process_default


@pytest.fixture
def remote(tracking_server, workdir, monkeypatch):
    """The fluent API and ``pack.Client()`` pointed at the server by ``PACK_TRACKING_URI``."""
    monkeypatch.setenv("PACK_TRACKING_URI", tracking_server.url)
    process_default().reset()
    return tracking_server


def _unique(base: str) -> str:
    return f"{base}-{uuid.uuid4().hex[:8]}"


def test_fluent_workflow_and_client_over_http(remote, trained, tmp_path):
    _, estimator, features = trained
    name, experiment = _unique("iris"), _unique("exp")
    assert pack.get_tracking_uri() == remote.url
    pack.set_experiment(experiment)
    notes = tmp_path / "model_summary.txt"
    notes.write_text("a logistic regression")
    with pack.start_run(run_name="train") as run:
        pack.log_param("max_iter", 500)
        pack.log_params({"solver": "lbfgs", "C": 1.0})
        pack.log_metric("acc", 0.5, step=0)
        pack.log_metrics({"acc": 0.97, "f1": 0.96}, step=1)
        pack.set_tags({"team": "ml"})
        pack.log_artifact(str(notes))
        pack.log_dict({"classes": 3}, "meta/config.json")
        info = pack.log_model(estimator, "model", input_example=features.head(3), registered_model_name=name)
    run_id = run.info.run_id
    assert (info.model_uri, info.registered_model_version) == (f"runs:/{run_id}/model", 1)
    client = pack.Client()
    stored = client.get_run(run_id)
    assert (
        stored.info.status == "FINISHED"
        and stored.info.experiment_id == pack.get_experiment_by_name(experiment).experiment_id
    )
    assert stored.data.params == {"max_iter": "500", "solver": "lbfgs", "C": "1.0"}
    assert stored.data.metrics == {"acc": 0.97, "f1": 0.96}
    assert [m.value for m in client.get_metric_history(run_id, "acc")] == [0.5, 0.97]
    assert stored.data.tags["team"] == "ml" and stored.data.tags["mlflow.source.type"] == "LOCAL"
    assert [a.path for a in client.list_artifacts(run_id)] == ["meta", "model", "model_summary.txt"]
    assert "model/MLmodel" in [a.path for a in client.list_artifacts(run_id, "model")]
    downloaded = Path(client.download_artifacts(run_id, "model_summary.txt", str(tmp_path / "out")))
    assert downloaded.read_text() == "a logistic regression"
    found = pack.Client().search_runs(stored.info.experiment_id, "metrics.acc > 0.9 AND params.solver = 'lbfgs'")
    assert [r.info.run_id for r in found] == [run_id]

    client.transition_model_version_stage(name, 1, "Production")
    client.set_registered_model_alias(name, "champion", 1)
    expected = estimator.predict(features.head(5))
    for uri in (f"models:/{name}/Production", f"models:/{name}@champion", f"runs:/{run_id}/model"):
        assert np.array_equal(pack.pyfunc.load_model(uri).predict(features.head(5)), expected), uri
    version = client.get_model_version(name, 1)
    assert (version.run_id, version.current_stage, version.aliases) == (run_id, "Production", ("champion",))


def test_set_tracking_uri_switches_to_the_server(tracking_server, workdir, trained):
    pack.set_tracking_uri(tracking_server.url)
    with pack.start_run() as run:
        pack.log_param("where", "server")
    assert pack.Client().get_run(run.info.run_id).data.params == {"where": "server"}
    assert not (workdir / "pack.db").exists()  # nothing was written locally
    pack.set_tracking_uri(f"sqlite:///{workdir}/local.db")
    assert pack.Client().search_runs("0") == []
    remote = pack.Client(tracking_uri=tracking_server.url)
    assert remote.tracking_uri == tracking_server.url
    assert remote.get_run(run.info.run_id).data.params == {"where": "server"}


def test_downloads_are_cached_and_verified_before_use(remote, trained, workdir):
    model_dir, _, features = trained
    name = _unique("cached")
    pack.Client().create_registered_model(name)
    pack.Client().create_model_version(name, str(model_dir))
    registry = process_default().services().registry
    local = pack.uris.resolve(f"models:/{name}/1").path
    assert local.is_relative_to(Path(os.environ["PACK_CACHE_DIR"]))
    first = {p.name: p.stat().st_ino for p in local.iterdir()}
    assert pack.uris.resolve(f"models:/{name}/latest").path == local  # from the cache, not fetched again
    assert {p.name: p.stat().st_ino for p in local.iterdir()} == first
    target = local / "model.skops"
    damaged = bytearray(target.read_bytes())
    damaged[-1] ^= 0xFF
    target.write_bytes(bytes(damaged))
    if remote.kind == MLFLOW:
        # MLflow's server records no checksums: the ones taken at the first download catch the change
        with pytest.raises(InvalidModel, match=r"model\.skops changed after registration"):
            pack.pyfunc.load_model(f"models:/{name}/1")
        return
    # pack server records them: the damaged copy is refused and fetched again, then verified
    model = pack.pyfunc.load_model(f"models:/{name}/1")
    assert model.predict(features.head(2)) is not None
    path, files = registry.fetch(registry.get_model_version(name, 1))
    assert {f.path for f in files} == {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert (path / "model.skops").read_bytes() == (model_dir / "model.skops").read_bytes()
