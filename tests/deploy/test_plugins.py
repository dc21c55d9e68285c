"""Third-party targets through real entry points (group ``pack.deployments``), in Python and on the CLI."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from devtools.cli import run_pack
from pack import _plugins
from pack.deployments import available_targets, get_deploy_client, target_help
from pack.errors import InvalidInput, PackError

PLUGIN = textwrap.dedent(
    '''
    """A target that keeps its deployments in a JSON file (the target URI's suffix)."""
    import json
    from pathlib import Path

    from pack.deploy.base import BaseDeploymentClient


    class FileDeploymentClient(BaseDeploymentClient):
        def __init__(self, target_uri):
            super().__init__(target_uri)
            self.path = Path(target_uri.split(":", 1)[1])

        def _load(self):
            return json.loads(self.path.read_text()) if self.path.exists() else {}

        def _save(self, data):
            self.path.write_text(json.dumps(data))

        def create_deployment(self, name, model_uri, flavor=None, config=None, endpoint=None):
            data = self._load()
            data[name] = {"name": name, "model_uri": model_uri, "config": dict(config or {})}
            self._save(data)
            return data[name]

        def update_deployment(self, name, model_uri=None, flavor=None, config=None, endpoint=None):
            data = self._load()
            data[name]["model_uri"] = model_uri or data[name]["model_uri"]
            self._save(data)
            return data[name]

        def delete_deployment(self, name, config=None, endpoint=None):
            data = self._load()
            del data[name]
            self._save(data)

        def list_deployments(self, endpoint=None):
            return list(self._load().values())

        def get_deployment(self, name, endpoint=None):
            return self._load()[name]

        def predict(self, deployment_name=None, inputs=None, endpoint=None):
            return {"predictions": inputs, "deployment": deployment_name}


    def target_help():
        return "file:/PATH keeps deployments in a JSON file"
    '''
)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution on sys.path (and PYTHONPATH, for the CLI) registering ``file`` and a broken target."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "file_target.py").write_text(PLUGIN)
    (site / "broken_target.py").write_text("def target_help():\n    return 'no client here'\n")
    info = site / "file_target-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: file-target\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pack.deployments]\nfile = file_target\nbroken = broken_target\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    _plugins._entry_points.cache_clear()
    yield site
    _plugins._entry_points.cache_clear()
    for module in ("file_target", "broken_target"):
        sys.modules.pop(module, None)


def test_a_plugin_target_in_python(installed, tmp_path):
    assert {"docker", "kubernetes", "sagemaker", "file", "broken"} <= set(available_targets())
    client = get_deploy_client(f"file:{tmp_path / 'state.json'}")
    assert type(client).__name__ == "FileDeploymentClient"
    client.create_deployment("rf", "models:/rf/1", config={"size": "xl"})
    assert client.get_deployment("rf")["config"] == {"size": "xl"}
    assert client.predict("rf", [1, 2]) == {"predictions": [1, 2], "deployment": "rf"}
    assert target_help("file:/x") == "file:/PATH keeps deployments in a JSON file"


def test_a_plugin_target_on_the_command_line(installed, tmp_path):
    target = f"file:{tmp_path / 'state.json'}"
    done = run_pack("deployments", "create", "-t", target, "--name", "rf", "-m", "models:/rf/1", "-C", "size=xl")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"created rf on {target}: its model\n"
    done = run_pack("deployments", "update", "-t", target, "--name", "rf", "-m", "models:/rf/2")
    assert done.returncode == 0, done.stderr
    listed = json.loads(run_pack("deployments", "list", "-t", target, "--json").stdout)
    assert listed == [{"name": "rf", "model_uri": "models:/rf/2", "config": {"size": "xl"}}]
    helped = run_pack("deployments", "help", "-t", "file")
    assert helped.stdout == "file:/PATH keeps deployments in a JSON file\n"
    rows = tmp_path / "rows.json"
    rows.write_text('{"inputs": [[1, 2]]}')
    scored = run_pack("deployments", "predict", "-t", target, "--name", "rf", "-i", str(rows))
    assert json.loads(scored.stdout) == {"predictions": {"inputs": [[1, 2]]}, "deployment": "rf"}
    assert run_pack("deployments", "delete", "-t", target, "--name", "rf").returncode == 0
    assert json.loads(run_pack("deployments", "list", "-t", target, "--json").stdout) == []


def test_a_module_without_a_client_is_refused(installed):
    with pytest.raises(PackError, match=r"broken_target must define exactly one BaseDeploymentClient subclass"):
        get_deploy_client("broken")
    result = run_pack("deployments", "list", "-t", "broken")
    assert result.returncode == 1 and result.stderr.count("\n") == 1


def test_unknown_and_missing_targets(installed, monkeypatch, tmp_path):
    with pytest.raises(InvalidInput, match=r"unknown deployment target 'nope' \(installed: broken, docker, file"):
        get_deploy_client("nope:/x")
    monkeypatch.delenv("PACK_DEPLOYMENTS_TARGET", raising=False)
    with pytest.raises(InvalidInput, match="no deployment target"):
        get_deploy_client()
    monkeypatch.setenv("PACK_DEPLOYMENTS_TARGET", f"file:{tmp_path / 'state.json'}")
    assert type(get_deploy_client()).__name__ == "FileDeploymentClient"
    result = run_pack("deployments", "list", "--json")  # -t from PACK_DEPLOYMENTS_TARGET
    assert result.returncode == 0 and json.loads(result.stdout) == []


def _modules_after(code: str) -> set[str]:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split(".")[0] for line in out.split()}


def test_targets_import_only_what_they_use():
    docker = _modules_after("from pack.deployments import get_deploy_client; get_deploy_client('docker')")
    assert not docker & {"kubernetes", "boto3", "botocore", "docker", "sklearn", "torch"}, docker
    # What `docker exec` runs in the proxy container every half second while waiting: the standard library.
    probe = _modules_after("import pack.deploy.proxy")
    assert not probe & {"numpy", "pandas", "yaml", "pydantic", "uvicorn", "h11", "docker", "click"}, probe
