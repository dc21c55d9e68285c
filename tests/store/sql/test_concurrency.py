"""Real processes: 8 concurrent writers get unique, gap-free versions; a writer killed mid-registration
never leaves a READY version without its complete files. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pack.errors import NotFound
from pack.refs import ModelRef
from pack.registry.default import process_default

pytestmark = pytest.mark.slow

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pack.registry.default import process_default
    source, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    registry = process_default().services().registry
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    for _ in range(count):
        print(registry.register_model(source, name).version, flush=True)
    """
)


def _env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACK_")}
    env.update(
        PACK_TRACKING_URI=settings.tracking_uri,
        PACK_DEFAULT_ARTIFACT_ROOT=settings.default_artifact_root,
        PACK_CACHE_DIR=str(settings.cache_dir),
        PACK_USER="writer",
        PYTHONPATH=str(Path(__file__).resolve().parents[3]),
    )
    return env


def _spawn(settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *args],
        env=_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_eight_concurrent_writers_get_unique_gap_free_versions(settings, model_dir, tmp_path):
    writers, per_writer = 8, 5
    go = tmp_path / "go"
    processes = [_spawn(settings, str(model_dir), "shared", str(per_writer), str(go)) for _ in range(writers)]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    go.touch()  # all start at once, on a database nobody has migrated yet
    got: list[list[int]] = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        got.append([int(line) for line in out.split()])
    numbers = sorted(v for versions in got for v in versions)
    assert numbers == list(range(1, writers * per_writer + 1))  # unique and gap-free
    assert all(len(versions) == per_writer for versions in got)
    client_store = process_default().services(settings).registry_store
    listed = client_store.search_model_versions("name='shared'")
    assert sorted(v.version for v in listed) == numbers
    assert {v.status for v in listed} == {"READY"}
    registry = process_default().services(settings).registry
    for version in numbers:
        assert (
            registry.resolve_path(ModelRef.parse(f"models:/shared/{version}")) / "MLmodel"
        ).is_file()  # files verified


@pytest.fixture
def big_model(model_dir, tmp_path) -> Path:
    """A model directory with 300 extra files, so a registration takes a while to copy."""
    import shutil

    target = tmp_path / "big"
    shutil.copytree(model_dir, target)
    extra = target / "extra"
    extra.mkdir()
    payload = os.urandom(64 * 1024)
    for index in range(300):
        (extra / f"part-{index:03d}.bin").write_bytes(payload[index:] + payload[:index])
    return target


def _pending(store) -> list[int]:
    try:
        return [v.version for v in store.search_model_versions("name='big' AND status='PENDING_REGISTRATION'")]
    except NotFound:
        return []


def test_a_writer_killed_mid_registration_leaves_no_incomplete_ready_version(settings, big_model, tmp_path):
    store = process_default().services(settings).registry_store
    registry = process_default().services(settings).registry
    registry.register_model(str(big_model), "big")  # version 1 is complete
    killed = 0
    for delay in (0.0, 0.02, 0.06):
        go = tmp_path / f"go-{delay}"
        process = _spawn(settings, str(big_model), "big", "3", str(go))
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        go.touch()
        deadline = time.monotonic() + 120
        while not _pending(store) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.002)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        killed += process.returncode == -signal.SIGKILL
        versions = store.search_model_versions("name='big'")
        for version in versions:
            if version.status == "READY":
                path = registry.resolve_path(
                    ModelRef.parse(f"models:/big/{version.version}")
                )  # all files, all checksums
                assert len(list(path.rglob("*.bin"))) == 300
            else:
                assert version.status == "PENDING_REGISTRATION"
                with pytest.raises(NotFound, match="not READY"):
                    registry.resolve(ModelRef.parse(f"models:/big/{version.version}"))
    assert killed == 3
    left_pending = [v for v in store.search_model_versions("name='big'") if v.status != "READY"]
    assert left_pending, "no writer was caught mid-registration"
    assert registry.resolve(ModelRef.parse("models:/big/latest")).status == "READY"
    after = registry.register_model(str(big_model), "big")
    numbers = [v.version for v in store.search_model_versions("name='big'")]
    assert after.version == max(numbers) and sorted(numbers) == list(range(1, after.version + 1))
