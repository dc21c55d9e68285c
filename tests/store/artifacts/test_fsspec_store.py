"""The fsspec artifact store: local folders, memory://, and s3:// against a real moto S3 server."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pack.errors import AlreadyExists, InvalidInput, InvalidModel, NotFound, RegistryError
from pack.store.artifacts import FsspecArtifactStore, open_store


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_local_put_tree_fsyncs_every_file_and_directory_where_they_end_up(model_dir, tmp_path, monkeypatch):
    synced: list[Path] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(Path(os.readlink(f"/proc/self/fd/{fd}"))) or real(fd))
    open_store(str(tmp_path / "root")).put_tree(model_dir, "models/m/v1", fsync=True)
    target = tmp_path / "root" / "models" / "m" / "v1"
    tree = [target / rel for rel in _tree(model_dir)] + [p for p in target.rglob("*") if p.is_dir()]
    assert sorted(synced) == sorted([*tree, target, target.parent])  # the rename is durable, no copy left in tmp


def test_local_put_tree_copies_hashes_and_is_atomic(model_dir, tmp_path):
    store = open_store(str(tmp_path / "root"))
    manifest = store.put_tree(model_dir, "models/m/v1", fsync=True)
    target = tmp_path / "root" / "models" / "m" / "v1"
    assert _tree(target) == _tree(model_dir)
    assert {f.path: f.sha256 for f in manifest} == {
        rel: hashlib.sha256(data).hexdigest() for rel, data in _tree(model_dir).items()
    }
    assert [p.name for p in target.parent.iterdir()] == ["v1"]  # no temporary directory left
    with pytest.raises(AlreadyExists):
        store.put_tree(model_dir, "models/m/v1")
    assert store.local_path("models/m/v1") == target
    names = [info.path for info in store.ls("models/m/v1")]
    assert "models/m/v1/MLmodel" in names
    store.delete("models/m/v1")
    assert not target.exists()
    store.delete("models/m/v1")  # already gone: fine


def test_symlinks_leaving_the_model_directory_are_refused(model_dir, tmp_path):
    import shutil

    source = tmp_path / "model"
    shutil.copytree(model_dir, source)
    (tmp_path / "secret").write_text("do not copy")
    (source / "leak").symlink_to(tmp_path / "secret")
    with pytest.raises(InvalidModel, match="outside the model directory"):
        open_store(str(tmp_path / "root")).put_tree(source, "x")
    assert not (tmp_path / "root" / "x").exists()


@pytest.mark.parametrize("path", ["../escape", "a/../../b", "/abs"])
def test_paths_outside_the_store_are_refused(tmp_path, path):
    store = open_store(str(tmp_path / "root"))
    with pytest.raises(InvalidInput):
        store.put_file(tmp_path / "x", path)
    with pytest.raises(InvalidInput):
        store.child(path)


def test_memory_store_round_trip(model_dir, tmp_path):
    store = FsspecArtifactStore(f"memory://pack-test-{os.getpid()}-{time.monotonic_ns()}")
    assert store.local_path() is None
    manifest = store.put_tree(model_dir, "m/1")
    assert len(manifest) == len(_tree(model_dir))
    store.download("m/1", tmp_path / "copy")
    assert _tree(tmp_path / "copy") == _tree(model_dir)
    with pytest.raises(NotFound):
        store.download("m/2", tmp_path / "none")
    store.delete("m")
    assert store.ls("m") == []


def test_unknown_schemes_and_missing_drivers_are_clear_errors():
    with pytest.raises(InvalidInput, match="unsupported artifact location"):
        open_store("nope://bucket/x")
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        with pytest.raises(RegistryError, match="pip install gcsfs"):
            open_store("gs://bucket/x")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 (a subprocess), with credentials in the environment."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (test extra)")
    pytest.importorskip("s3fs", reason="s3fs is not installed (test extra)")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.skip("the moto S3 server did not start")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch) -> str:
    import fsspec

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"pack-{time.monotonic_ns()}"
    fsspec.filesystem("s3", skip_instance_cache=True).mkdir(bucket)
    fsspec.filesystem("s3").invalidate_cache()
    return f"s3://{bucket}/root"


def test_s3_store_round_trip(s3_env, model_dir, tmp_path):
    store = open_store(s3_env)
    manifest = store.put_tree(model_dir, "m/1")
    assert {f.path for f in manifest} == set(_tree(model_dir))
    assert [info.path for info in store.ls("m")] == ["m/1"]
    store.download("m/1", tmp_path / "copy")
    assert _tree(tmp_path / "copy") == _tree(model_dir)


def test_registry_on_s3_registers_resolves_and_verifies(s3_env, model_dir, tmp_path, trained):
    import numpy as np

    import pack.pyfunc
    from pack.refs import ModelRef
    from pack.registry.default import process_default
    from pack.registry.settings import RegistrySettings
    from pack.tracking import Client

    settings = RegistrySettings(
        tracking_uri=f"sqlite:///{tmp_path}/pack.db", default_artifact_root=s3_env, cache_dir=str(tmp_path / "cache")
    )
    try:
        client = Client(settings=settings)
        client.create_registered_model("iris")
        version = client.create_model_version("iris", str(model_dir))
        assert version.storage_location.startswith(s3_env)
        client.set_registered_model_alias("iris", "champion", 1)
        registry = process_default().services(settings).registry
        local = registry.resolve_path(ModelRef.parse("models:/iris@champion"))
        assert local.is_relative_to(tmp_path / "cache")
        _, estimator, features = trained
        assert np.array_equal(
            pack.pyfunc.load_model(local).predict(features.head(3)), estimator.predict(features.head(3))
        )
        (local / "MLmodel").write_text((local / "MLmodel").read_text() + "\n# edited\n")
        with pytest.raises(InvalidModel, match="MLmodel changed"):
            registry.resolve_path(ModelRef.parse("models:/iris/1"))
        run = client.create_run("0")
        client.log_text(run.info.run_id, "hello", "notes/readme.txt")
        assert run.info.artifact_uri.startswith(s3_env)
        assert [a.path for a in client.list_artifacts(run.info.run_id, "notes")] == ["notes/readme.txt"]
        client.delete_model_version("iris", 1)
        assert open_store(version.storage_location).ls() == []
    finally:
        process_default().reset()
