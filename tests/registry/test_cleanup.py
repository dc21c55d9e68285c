"""What killed registrations leave behind: found, listed by ``pack gc``, removed with ``--yes`` and by the
sweep before each registration; a registration that finishes is never touched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy

from devtools.cli import pack_command, run_pack
from pack.refs import ModelRef
from pack.registry.cleanup import Sweeper, model_dir
from pack.registry.services import Services
from pack.store import ModelVersionStatus
from pack.store.artifacts import open_store


def _big_model(model: Path, tmp_path: Path) -> Path:
    """A copy of ``model`` with a 1 GB sparse file: registering it takes long enough to be killed."""
    big = tmp_path / "big"
    shutil.copytree(model, big)
    with open(big / "zz-weights.bin", "wb") as handle:
        handle.truncate(1 << 30)
    return big


def _killed_registration(model: Path, name: str, env: dict[str, str], root: Path) -> Path:
    """Start ``pack models register`` and SIGKILL it once it is copying; return its temporary directory."""
    process = subprocess.Popen(
        [*pack_command(), "models", "register", str(model), name],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            found = list((root / model_dir(name)).glob(".v*.tmp-*"))
            if found:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return found[0]
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    raise AssertionError(f"the registration ended (code {process.returncode}) before it could be killed")


def _age(db_uri: str, seconds: float) -> None:
    """Make every pending version ``seconds`` older, as if its registration had died that long ago."""
    engine = sqlalchemy.create_engine(db_uri)
    try:
        with engine.begin() as conn:
            conn.execute(
                sqlalchemy.text(
                    "UPDATE model_versions SET creation_time = creation_time - :ms "
                    "WHERE status = 'PENDING_REGISTRATION'"
                ),
                {"ms": int(seconds * 1000)},
            )
    finally:
        engine.dispose()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PACK_TRACKING_URI": f"sqlite:///{tmp_path}/pack.db",
        "PACK_DEFAULT_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
    }


def test_gc_lists_then_removes_what_a_killed_registration_left(model_dir, tmp_path, env):
    root = tmp_path / "artifacts"
    temporary = _killed_registration(_big_model(model_dir, tmp_path), "fraud", env, root)
    versions = json.loads(run_pack("models", "versions", "fraud", "--json", env=env).stdout)["model_versions"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "PENDING_REGISTRATION")]

    young = run_pack("gc", env=env)  # the registration died a moment ago: within the hour, it may be running
    assert (young.returncode, young.stdout) == (0, "nothing to clean up\n")
    listed = run_pack("gc", "--older-than", "0", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "mark FAILED_REGISTRATION and remove its files" in listed.stdout
    assert "dry run: nothing changed; run pack gc --yes to act" in listed.stdout
    assert temporary.is_dir()  # a dry run changes nothing

    done = run_pack("gc", "--older-than", "0", "--yes", "--json", env=env)
    assert done.returncode == 0, done.stderr
    (removed,) = json.loads(done.stdout)["removed"]
    assert (removed["kind"], removed["name"], removed["version"]) == ("pending", "fraud", 1)
    assert not temporary.exists()
    versions = json.loads(run_pack("models", "versions", "fraud", "--json", env=env).stdout)["model_versions"]
    assert versions[0]["status"] == "FAILED_REGISTRATION"
    assert "abandoned: still pending after" in versions[0]["status_message"]
    assert run_pack("gc", "--older-than", "0", env=env).stdout == "nothing to clean up\n"


def test_registering_sweeps_registrations_dead_for_over_an_hour(model_dir, tmp_path, env):
    root = tmp_path / "artifacts"
    temporary = _killed_registration(_big_model(model_dir, tmp_path), "fraud", env, root)
    again = run_pack("models", "register", str(model_dir), "fraud", env=env)
    assert again.returncode == 0, again.stderr
    assert temporary.is_dir()  # dead for seconds only: it might still be running, so it stays
    _age(env["PACK_TRACKING_URI"], 3601)
    third = run_pack("models", "register", str(model_dir), "fraud", env=env)
    assert third.returncode == 0, third.stderr
    assert not temporary.exists()
    versions = json.loads(run_pack("models", "versions", "fraud", "--json", env=env).stdout)["model_versions"]
    assert sorted((v["version"], v["status"]) for v in versions) == [
        (1, "FAILED_REGISTRATION"),
        (2, "READY"),
        (3, "READY"),
    ]


def test_deleting_a_pending_version_leaves_an_orphan_that_gc_removes(model_dir, tmp_path, env):
    temporary = _killed_registration(_big_model(model_dir, tmp_path), "fraud", env, tmp_path / "artifacts")
    deleted = run_pack("models", "delete", "fraud", "--version", "1", "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert temporary.is_dir()
    done = run_pack("gc", "--yes", env=env)  # no version owns it any more: an orphan at any age
    assert done.returncode == 0, done.stderr
    assert "remove an orphaned temporary directory" in done.stdout
    assert not temporary.exists()


def test_a_sweep_never_touches_a_version_that_finished(settings, model_dir):
    services = Services.from_settings(settings)
    try:
        store = services.registry_store
        store.create_registered_model("m")
        root = settings.default_artifact_root
        pending = store.create_model_version("m", source="s", storage_location=lambda v: f"{root}/models/m/v{v}")
        files = open_store(settings.default_artifact_root).put_tree(model_dir, "models/m/v1")
        sweeper = Sweeper(store, settings.default_artifact_root, open_store=open_store)
        (listed,) = sweeper.find(0)
        assert (listed.kind, listed.version) == ("pending", pending.version)
        store.finish_model_version("m", pending.version, files)  # the registration completes meanwhile
        assert store.fail_model_version("m", pending.version, "too late") is False
        assert sweeper.sweep(0) == []
        assert store.get_model_version("m", pending.version).status == ModelVersionStatus.READY.value
        assert services.registry.resolve_path(ModelRef.parse("models:/m/1")).is_dir()  # files intact, verified
    finally:
        services.close()


def test_registrations_sweep_a_model_at_most_once_every_interval(settings):
    services = Services.from_settings(settings)
    try:
        store, root = services.registry_store, settings.default_artifact_root
        store.create_registered_model("m")
        store.create_registered_model("n")

        def dead(name: str) -> tuple[str, int]:
            version = store.create_model_version(name, source="s", storage_location=lambda v: f"{root}/{name}/v{v}")
            return (name, version.version)

        sweeper = Sweeper(store, root, open_store=open_store, every=3600)
        first = dead("m")
        assert [(x.name, x.version) for x in sweeper.sweep_due(0, model="m")] == [first]
        second = dead("m")
        assert sweeper.sweep_due(0, model="m") == []  # m was swept a moment ago
        assert [(x.name, x.version) for x in sweeper.sweep_due(0, model="n")] == [second]  # n was not
        third = dead("m")
        every_time = Sweeper(store, root, open_store=open_store, every=0)
        assert [(x.name, x.version) for x in every_time.sweep_due(0, model="m")] == [third]
        assert store.get_model_version(*third).status == ModelVersionStatus.FAILED_REGISTRATION.value
    finally:
        services.close()


class _RegistrationDuringTheRead:
    """A store after whose read of the pending versions a registration starts at once (its version, then
    its temporary directory), as a concurrent ``pack models register`` would."""

    def __init__(self, store, start):
        self._store, self._start, self.started = store, start, None

    def __getattr__(self, name):
        return getattr(self._store, name)

    def search_model_versions(self, query, *args):
        page = self._store.search_model_versions(query, *args)
        if self.started is None and "PENDING_REGISTRATION" in query:
            self.started = self._start()
        return page


def test_a_registration_that_starts_during_a_sweep_keeps_its_directory(settings):
    services = Services.from_settings(settings)
    try:
        store = services.registry_store
        store.create_registered_model("m")
        root = Path(settings.default_artifact_root)

        def start() -> Path:
            version = store.create_model_version("m", source="s", storage_location=lambda v: f"{root}/models/m/v{v}")
            temporary = root / "models" / "m" / f".v{version.version}.tmp-0123456789ab"
            temporary.mkdir(parents=True)
            return temporary

        racing = _RegistrationDuringTheRead(store, start)
        sweeper = Sweeper(racing, str(root), open_store=open_store)
        assert sweeper.sweep(0, model="m") == []
        assert racing.started is not None and racing.started.is_dir()
        assert sweeper.sweep(3600) == []  # now listed, and owned by its young pending version
        assert racing.started.is_dir()
    finally:
        services.close()


def test_a_bad_threshold_is_an_input_error(env):
    result = run_pack("gc", "--older-than", "soon", env=env)
    assert (result.returncode, result.stderr) == (
        2,
        "error: --older-than 'soon' is not a duration (e.g. 90s, 30m, 1h, 2d)\n",
    )
