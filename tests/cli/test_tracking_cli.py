"""``pack runs ...`` and ``pack experiments ...``."""

from __future__ import annotations

import json

from click.testing import CliRunner

import pack
from pack.cli.main import cli
from pack.registry.default import process_default


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, (result.output, result.stderr)
    return result.stdout if code == 0 else result.stderr


def test_runs_and_experiments(tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path}/t.db"
    store = ("--backend-store-uri", db, "--default-artifact-root", str(tmp_path / "files"))
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / ".cache"))
    try:
        assert "created experiment 'fraud' with id 1" in invoke("experiments", "create", "fraud", *store)
        assert "already exists" in invoke("experiments", "create", "fraud", *store, code=2)
        client = pack.Client(tracking_uri=db)
        run = client.create_run("1", run_name="trial")
        client.log_param(run.info.run_id, "depth", 3)
        client.log_metric(run.info.run_id, "acc", 0.91)
        client.log_text(run.info.run_id, "hello", "notes.txt")
        client.set_terminated(run.info.run_id)
        table = invoke("runs", "list", "-e", "fraud", *store)
        assert "trial" in table and "acc=0.91" in table and "depth=3" in table
        assert invoke("runs", "list", "-e", "1", "--filter", "metrics.acc < 0.5", "--json", *store).count("run_id") == 0
        described = invoke("runs", "describe", run.info.run_id, *store)
        assert "FINISHED" in described and "notes.txt" in described and "depth" in described
        document = json.loads(invoke("runs", "describe", run.info.run_id, "--json", *store))
        assert document["run"]["data"]["metrics"] == {"acc": 0.91}
        assert [a["path"] for a in document["artifacts"]] == ["notes.txt"]
        names = [e["name"] for e in json.loads(invoke("experiments", "list", "--json", *store))["experiments"]]
        assert names == ["fraud", "Default"]
        client.delete_experiment("1")
        assert "fraud" not in invoke("experiments", "list", *store)
        assert "deleted" in invoke("experiments", "list", "--all", *store)
    finally:
        process_default().reset()
