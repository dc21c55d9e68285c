"""``pack log-model`` into runs, and ``pack models ...``: tables for people, JSON for scripts, one-line errors."""

from __future__ import annotations

import json
import pickle

import pytest
from click.testing import CliRunner

from devtools.cli import run_pack
from pack.cli.main import cli
from pack.registry.default import process_default


@pytest.fixture
def workdir(tmp_path, random_forest, classification_data, monkeypatch):
    frame, _ = classification_data
    with open(tmp_path / "rf.pkl", "wb") as handle:
        pickle.dump(random_forest, handle)
    frame.head(8).to_csv(tmp_path / "rows.csv", index=False)
    monkeypatch.chdir(tmp_path)
    for key in ("PACK_TRACKING_URI", "PACK_REGISTRY_URI", "PACK_DEFAULT_ARTIFACT_ROOT", "PACK_USER"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / ".cache"))
    yield tmp_path
    process_default().reset()


def register_forest(random_forest, versions: int = 1) -> None:
    """Register versions of 'forest' through the API (quicker than the console script)."""
    import pack

    pack.save_model(random_forest, "saved")
    client = pack.Client()
    client.create_registered_model("forest")
    for _ in range(versions):
        client.create_model_version("forest", "saved")
    process_default().reset()


def pack_cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, (result.output, result.stderr)
    return result.stdout if code == 0 else result.stderr


def test_log_model_logs_into_a_run_registers_and_predicts(workdir, random_forest, classification_data):
    logged = run_pack("log-model", "sklearn", "rf.pkl", "--register", "forest", "--input-example", "rows.csv")
    assert logged.returncode == 0, logged.stderr
    assert "logged sklearn model to run" in logged.stdout and "as runs:/" in logged.stdout
    assert "registered as forest version 1" in logged.stdout
    assert (workdir / "pack.db").is_file() and (workdir / "packruns").is_dir()
    named = run_pack("log-model", "sklearn", "rf.pkl", "--name", "clf", "-e", "exp", "--register", "forest")
    assert named.returncode == 0, named.stderr
    assert "/clf" in named.stdout and "forest version 2" in named.stdout
    predicted = run_pack("predict", "-m", "models:/forest/latest", "-i", "rows.csv")
    assert predicted.returncode == 0, predicted.stderr
    frame, _ = classification_data
    assert json.loads(predicted.stdout)["predictions"] == random_forest.predict(frame.head(8)).tolist()
    runs = json.loads(pack_cli("runs", "list", "-e", "exp", "--json"))["runs"]
    assert len(runs) == 1 and runs[0]["info"]["status"] == "FINISHED"
    with_output = run_pack("log-model", "sklearn", "rf.pkl", "-o", "dir", "--register", "forest")
    assert with_output.returncode == 0, with_output.stderr
    assert "saved sklearn model to dir" in with_output.stdout and "forest version 3" in with_output.stdout


def test_models_commands(workdir, random_forest):
    register_forest(random_forest, versions=2)
    assert "forest version 2 is now in Production" in pack_cli("models", "transition", "forest", "2", "Production")
    assert "forest@champion -> version 2" in pack_cli("models", "alias", "forest", "champion", "2")
    assert "team=risk" in pack_cli("models", "tag", "forest", "team", "risk")
    assert "approved=yes" in pack_cli("models", "tag", "forest", "approved", "yes", "--version", "1")
    table = pack_cli("models", "list")
    assert "forest" in table and "Production: v2" in table and "@champion: v2" in table
    listed = json.loads(pack_cli("models", "list", "--json"))
    assert [m["name"] for m in listed["registered_models"]] == ["forest"] and listed["next_page_token"] is None
    described = json.loads(pack_cli("models", "describe", "forest", "--json"))
    assert described["aliases"] == {"champion": 2} and described["tags"] == {"team": "risk"}
    assert "@champion -> v2" in pack_cli("models", "describe", "forest")
    versions = json.loads(pack_cli("models", "versions", "forest", "--json"))["model_versions"]
    assert [(v["version"], v["current_stage"], v["status"]) for v in versions] == [
        (2, "Production", "READY"),
        (1, "None", "READY"),
    ]
    assert versions[1]["tags"] == {"approved": "yes"}
    assert "Production" in pack_cli("models", "versions", "forest", "--stage", "production")
    page = json.loads(pack_cli("models", "versions", "forest", "--max-results", "1", "--json"))
    assert len(page["model_versions"]) == 1 and page["next_page_token"]
    history = json.loads(pack_cli("models", "history", "forest", "--json"))["events"]
    assert [(e["kind"], e["to_value"], e["user"]) for e in history][:2] == [
        ("alias", "2", history[0]["user"]),
        ("stage", "Production", history[0]["user"]),
    ]
    assert "alias @champion" in pack_cli("models", "history", "forest")
    assert "removed alias @champion" in pack_cli("models", "alias", "forest", "champion", "--delete")
    assert "deleted forest version 1" in pack_cli("models", "delete", "forest", "--version", "1", "--yes")
    assert "deleted model forest" in pack_cli("models", "delete", "forest", "--yes")
    assert json.loads(pack_cli("models", "list", "--json"))["registered_models"] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("models", "describe", "ghost"), 1, "registered model 'ghost' not found"),
        (("models", "versions", "ghost"), 1, "registered model 'ghost' not found"),
        (("models", "history", "ghost"), 1, "registered model 'ghost' not found"),
        (("models", "transition", "forest", "9", "Staging"), 1, "model 'forest' has no version 9"),
        (("models", "transition", "forest", "1", "Prod"), 2, "unknown stage 'Prod'"),
        (("models", "alias", "forest", "bad alias", "1"), 2, "invalid alias 'bad alias'"),
        (("models", "alias", "forest", "latest", "1"), 2, "reserved"),
        (("models", "alias", "forest", "champion"), 2, "give the VERSION"),
        (("models", "alias", "forest", "ghost", "--delete"), 1, "has no alias 'ghost'"),
        (("models", "delete", "ghost", "--yes"), 1, "registered model 'ghost' not found"),
        (("models", "list", "--filter", "name = "), 2, "invalid filter"),
        (("models", "register", "missing-dir", "forest"), 1, "no model at 'missing-dir'"),
        (("runs", "describe", "0123456789abcdef0123456789abcdef"), 1, "not found"),
        (("runs", "list", "-e", "ghost"), 1, "experiment 'ghost' not found"),
    ],
)
def test_bad_input_is_a_one_line_error(workdir, random_forest, args, code, message):
    register_forest(random_forest)
    before = pack_cli("models", "versions", "forest", "--json")
    stderr = pack_cli(*args, code=code)
    assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert pack_cli("models", "versions", "forest", "--json") == before


def test_serve_and_build_name_the_registered_version(workdir, random_forest):
    """A stage or alias URI is resolved to its version number once; serving and the builders name it."""
    import yaml

    from tests.serving.support import ServerProcess

    register_forest(random_forest, versions=2)
    pack_cli("models", "transition", "forest", "2", "Production")
    pack_cli("models", "alias", "forest", "champion", "1")

    built = run_pack("build-k8s", "-m", "models:/forest/Production", "--image", "forest:2", "-o", "k8s")
    assert built.returncode == 0, built.stderr
    documents = [doc for path in sorted((workdir / "k8s").iterdir()) for doc in yaml.safe_load_all(path.read_text())]
    deployment = next(doc for doc in documents if doc["kind"] == "Deployment")
    assert deployment["metadata"]["labels"]["pack.model/name"] == "forest"
    assert deployment["metadata"]["labels"]["pack.model/version"] == "2"

    server = ServerProcess(["models:/forest@champion"], workdir / "serve.log")
    try:
        server.wait_ready()
        assert server.client.get("/v2/models/forest").json()["versions"] == ["1"]
        assert server.client.get("/v2/models/forest/versions/1/ready").status_code == 200
        assert server.client.get("/v2/models/forest/versions/2/ready").status_code == 404
    finally:
        server.stop()
