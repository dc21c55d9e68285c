"""Lifecycle policy: registration copies and checksums files, promotion rules, history, bad input."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from pack.errors import AlreadyExists, InvalidInput, InvalidModel, NotFound
from pack.refs import ModelRef
from pack.registry.default import process_default
from pack.store.entities import ModelVersionStatus


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_registering_copies_every_file_with_its_checksum(client, model_dir, settings):
    client.create_registered_model("iris")
    version = client.create_model_version("iris", str(model_dir), description="first")
    assert (version.version, version.status, version.user_id) == (1, "READY", "alice")
    stored = Path(version.storage_location)
    assert stored.is_relative_to(Path(settings.default_artifact_root))
    files = client.get_model_version_files("iris", 1)
    source_files = sorted(p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file())
    assert [f.path for f in files] == source_files
    for record in files:
        assert record.sha256 == _sha256(model_dir / record.path) == _sha256(stored / record.path)
        assert record.size == (stored / record.path).stat().st_size
        assert not os.access(stored / record.path, os.W_OK) or os.geteuid() == 0
        assert (stored / record.path).stat().st_mode & 0o222 == 0  # read-only: files never change
    assert version.file_count == len(files) and version.size_bytes == sum(f.size for f in files)
    assert version.flavors == ("sklearn", "python_function")
    assert version.signature == "4 inputs (double) -> 1 output (long)"


def test_register_model_creates_the_model_and_numbers_versions(client, model_dir):
    registry = client._services.registry
    first = registry.register_model(str(model_dir), "auto")
    second = registry.register_model(f"models:/auto/{first.version}", "auto")  # copy of a version
    assert (first.version, second.version) == (1, 2)
    assert client.get_registered_model("auto").name == "auto"
    assert [f.sha256 for f in client.get_model_version_files("auto", 1)] == [
        f.sha256 for f in client.get_model_version_files("auto", 2)
    ]


@pytest.mark.parametrize("verify", ["cached", "always"])
def test_resolving_detects_tampered_files(client, model_dir, settings, verify):
    registry = process_default().services(settings.model_copy(update={"verify": verify})).registry
    client.create_registered_model("iris")
    version = client.create_model_version("iris", str(model_dir))
    stored = Path(version.storage_location)
    assert registry.resolve_path(ModelRef.parse("models:/iris/1")) == stored  # verified once (and cached)
    target = stored / "model.skops"
    original = target.read_bytes()
    target.chmod(0o644)
    stat = target.stat()
    target.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))  # same size, one byte differs
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime
    with pytest.raises(InvalidModel, match=r"model\.skops changed after registration"):
        registry.resolve_path(ModelRef.parse("models:/iris/1"))
    target.write_bytes(original)
    assert registry.resolve_path(ModelRef.parse("models:/iris/1")) == stored


def test_resolving_detects_added_and_missing_files(client, model_dir, settings):
    registry = process_default().services(settings).registry
    client.create_registered_model("iris")
    stored = Path(client.create_model_version("iris", str(model_dir)).storage_location)
    (stored / "code").mkdir()
    (stored / "code" / "evil.py").write_text("import os")
    with pytest.raises(InvalidModel, match=r"added after registration: code/evil\.py"):
        registry.resolve_path(ModelRef.parse("models:/iris/latest"))
    shutil.rmtree(stored / "code")
    (stored / "requirements.txt").unlink()
    with pytest.raises(InvalidModel, match=r"missing: requirements\.txt"):
        registry.resolve_path(ModelRef.parse("models:/iris/latest"))


def test_stage_semantics_match_mlflow(client, model_dir):
    client.create_registered_model("m")
    for _ in range(4):
        client.create_model_version("m", str(model_dir))
    client.transition_model_version_stage("m", 1, "Production")
    client.transition_model_version_stage("m", 2, "production")  # archive_existing_versions=False
    assert [v.version for v in client.search_model_versions("name='m' AND current_stage='Production'")] == [2, 1]
    registry = client._services.registry
    assert registry.resolve(ModelRef.parse("models:/m/Production")).version == 2  # highest version in the stage
    assert registry.resolve(ModelRef.parse("models:/m/latest")).version == 4  # highest overall, whatever its stage
    client.transition_model_version_stage("m", 3, "Production", archive_existing_versions=True)
    stages = {v.version: v.current_stage for v in client.search_model_versions("name='m'")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production", 4: "None"}
    assert [v.version for v in client.get_latest_versions("m", ["Production"])] == [3]
    with pytest.raises(InvalidInput, match="archive_existing_versions applies to Staging and Production"):
        client.transition_model_version_stage("m", 4, "Archived", archive_existing_versions=True)


def test_history_records_who_when_from_and_to(client, model_dir, monkeypatch):
    client.create_registered_model("m")
    for _ in range(2):
        client.create_model_version("m", str(model_dir))
    client.transition_model_version_stage("m", 1, "Staging")
    client.transition_model_version_stage("m", 1, "Production")
    client.transition_model_version_stage("m", 1, "Production")  # no change, nothing recorded
    client.set_registered_model_alias("m", "champion", 1)
    client.set_registered_model_alias("m", "champion", 2)
    client.transition_model_version_stage("m", 2, "Production", archive_existing_versions=True)
    client.delete_registered_model_alias("m", "champion")
    events = list(client.get_model_version_history("m"))
    summary = [(e.version, e.kind, e.alias, e.from_value, e.to_value) for e in reversed(events)]
    assert summary == [
        (1, "stage", None, "None", "Staging"),
        (1, "stage", None, "Staging", "Production"),
        (1, "alias", "champion", None, "1"),
        (2, "alias", "champion", "1", "2"),
        (1, "stage", None, "Production", "Archived"),
        (2, "stage", None, "None", "Production"),
        (2, "alias", "champion", "2", None),
    ]
    assert {e.user for e in events} == {"alice"}
    assert all(later.timestamp >= earlier.timestamp for earlier, later in zip(events[1:], events, strict=False))
    assert [e.kind for e in client.get_model_version_history("m", version=1)] == ["stage", "alias", "stage", "stage"]
    page = client.get_model_version_history("m", max_results=3)
    rest = client.get_model_version_history("m", max_results=10, page_token=page.token)
    assert [e.id for e in page] + [e.id for e in rest] == [e.id for e in events] and rest.token is None


def test_history_user_comes_from_pack_user(model_dir, tmp_path, monkeypatch):
    from pack.tracking import Client

    monkeypatch.setenv("PACK_TRACKING_URI", f"sqlite:///{tmp_path}/u.db")
    monkeypatch.setenv("PACK_DEFAULT_ARTIFACT_ROOT", str(tmp_path / "a"))
    monkeypatch.setenv("PACK_USER", "release-bot")
    process_default().reset()
    try:
        client = Client()
        client.create_registered_model("m")
        client.create_model_version("m", str(model_dir))
        client.transition_model_version_stage("m", 1, "Production")
        assert [e.user for e in client.get_model_version_history("m")] == ["release-bot"]
        assert client.get_model_version("m", 1).user_id == "release-bot"
    finally:
        process_default().reset()


def test_deleting_a_version_removes_its_files_and_aliases(client, model_dir):
    client.create_registered_model("m")
    for _ in range(2):
        client.create_model_version("m", str(model_dir))
    client.set_registered_model_alias("m", "champion", 2)
    client.transition_model_version_stage("m", 2, "Production")
    stored = Path(client.get_model_version("m", 2).storage_location)
    client.delete_model_version("m", 2)
    assert not stored.exists()
    assert client.get_registered_model("m").aliases == {}
    with pytest.raises(NotFound):
        client.get_model_version_by_alias("m", "champion")
    latest = client.get_model_version_history("m")
    assert [(e.kind, e.from_value, e.to_value, e.reason) for e in latest[:2]] == [
        ("stage", "Production", "Deleted", "version deleted"),
        ("alias", "2", None, "version deleted"),
    ]
    assert client.create_model_version("m", str(model_dir)).version == 3  # numbers are never reused


def test_rename_and_delete_registered_model(client, model_dir, settings):
    client.create_registered_model("old", tags={"team": "fraud"}, description="d")
    client.create_model_version("old", str(model_dir))
    client.set_registered_model_alias("old", "champion", 1)
    renamed = client.rename_registered_model("old", "new")
    assert (renamed.name, renamed.tags, renamed.aliases) == ("new", {"team": "fraud"}, {"champion": 1})
    assert process_default().services(settings).registry.resolve(ModelRef.parse("models:/new@champion")).version == 1
    with pytest.raises(NotFound):
        client.get_registered_model("old")
    client.create_registered_model("other")
    with pytest.raises(AlreadyExists):
        client.rename_registered_model("new", "other")
    stored = Path(client.get_model_version("new", 1).storage_location)
    client.delete_registered_model("new")
    assert not stored.exists()
    with pytest.raises(NotFound):
        client.get_registered_model("new")


def _snapshot(client):
    models = client.search_registered_models()
    versions = client.search_model_versions()
    return (
        [(m.name, dict(m.aliases), dict(m.tags)) for m in models],
        [(v.name, v.version, v.current_stage, v.status, v.aliases) for v in versions],
        [(e.id, e.kind) for m in models for e in client.get_model_version_history(m.name)],
    )


def test_bad_input_gives_clear_errors_and_changes_nothing(client, model_dir, tmp_path):
    client.create_registered_model("m")
    client.create_model_version("m", str(model_dir))
    client.transition_model_version_stage("m", 1, "Staging")
    client.set_registered_model_alias("m", "champion", 1)
    before = _snapshot(client)
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    cases = [
        (InvalidInput, "unknown stage 'Prod'", lambda: client.transition_model_version_stage("m", 1, "Prod")),
        (InvalidInput, "invalid alias", lambda: client.set_registered_model_alias("m", "bad alias", 1)),
        (InvalidInput, "reserved", lambda: client.set_registered_model_alias("m", "latest", 1)),
        (InvalidInput, "reserved", lambda: client.set_registered_model_alias("m", "v2", 1)),
        (InvalidInput, "invalid version", lambda: client.set_registered_model_alias("m", "best", "one")),
        (NotFound, "has no version 7", lambda: client.set_registered_model_alias("m", "best", 7)),
        (NotFound, "has no version 7", lambda: client.transition_model_version_stage("m", 7, "Production")),
        (NotFound, "'ghost' not found", lambda: client.get_model_version("ghost", 1)),
        (NotFound, "'ghost' not found", lambda: client.transition_model_version_stage("ghost", 1, "Staging")),
        (NotFound, "'ghost' not found", lambda: client.create_model_version("ghost", str(model_dir))),
        (NotFound, "no model at", lambda: client.create_model_version("m", str(tmp_path / "absent"))),
        (NotFound, "no MLmodel file", lambda: client.create_model_version("m", str(not_a_model))),
        (InvalidInput, "invalid model name", lambda: client.create_registered_model("a/b")),
        (InvalidInput, "invalid model name", lambda: client.create_registered_model(" padded ")),
        (AlreadyExists, "already exists", lambda: client.create_registered_model("m")),
        (NotFound, "no alias 'ghost'", lambda: client.delete_registered_model_alias("m", "ghost")),
        (InvalidInput, "must not contain '..'", lambda: client.log_artifact(_run(client), model_dir, "../../x")),
        (InvalidInput, "must be relative", lambda: client.log_text(_run(client), "x", "/etc/cron.d/x")),
    ]
    for error, message, action in cases:
        with pytest.raises(error, match=message):
            action()
    assert _snapshot(client) == before


def _run(client):
    return client.create_run("0").info.run_id


def test_failed_copy_marks_the_version_failed_and_leaves_no_files(client, model_dir, tmp_path, settings):
    source = tmp_path / "model"
    shutil.copytree(model_dir, source)
    (source / "unreadable").write_text("x")
    (source / "unreadable").chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the copy fail another way (a dangling link)
        (source / "unreadable").unlink()
        (source / "dangling").symlink_to(tmp_path / "nowhere")
    client.create_registered_model("m")
    with pytest.raises((OSError, InvalidModel)):
        client.create_model_version("m", str(source))
    failed = client.get_model_version("m", 1)
    assert failed.status == ModelVersionStatus.FAILED_REGISTRATION.value and failed.status_message
    assert not Path(failed.storage_location).exists()
    with pytest.raises(NotFound, match="no ready version"):
        process_default().services(settings).registry.resolve(ModelRef.parse("models:/m/latest"))
    with pytest.raises(InvalidInput, match="only READY versions"):
        client.transition_model_version_stage("m", 1, "Production")
    assert client.create_model_version("m", str(model_dir)).version == 2
