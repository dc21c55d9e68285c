"""The composition root: ``Services`` wires stores and policy for one set of settings, and what is
built on it uses exactly those (no module globals behind the caller's back)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pack.registry import RegistrySettings, Services
from pack.registry.default import process_default
from pack.tracking import Client


def _settings(tmp_path: Path, name: str, registry: str | None = None) -> RegistrySettings:
    return RegistrySettings(
        tracking_uri=f"sqlite:///{tmp_path}/{name}.db",
        registry_uri=registry,
        default_artifact_root=str(tmp_path / f"{name}-files"),
        cache_dir=str(tmp_path / "cache"),
        user="bob",
    )


def test_one_database_when_tracking_and_registry_share_a_uri(tmp_path: Path) -> None:
    shared = Services.from_settings(_settings(tmp_path, "one"))
    split = Services.from_settings(_settings(tmp_path, "two", registry=f"sqlite:///{tmp_path}/models.db"))
    assert len(shared.databases) == 1 and len(split.databases) == 2
    shared.close()
    split.close()


def test_a_client_uses_the_services_it_is_given(tmp_path: Path, model_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("PACK_TRACKING_URI", f"sqlite:///{tmp_path}/elsewhere.db")
    process_default().reset()
    services = Services.from_settings(_settings(tmp_path, "mine"))
    try:
        client = Client(services=services)
        client.create_registered_model("m")
        version = client.create_model_version("m", str(model_dir))
        assert (version.user_id, Path(version.storage_location).is_relative_to(tmp_path / "mine-files")) == (
            "bob",
            True,
        )
        assert client.tracking_uri == f"sqlite:///{tmp_path}/mine.db"
        assert not (tmp_path / "elsewhere.db").exists()  # the process default was never touched
        assert [m.name for m in Client(services=services).search_registered_models()] == ["m"]
    finally:
        services.close()
        process_default().reset()


def test_the_process_default_follows_set_tracking_uri(tmp_path: Path, monkeypatch) -> None:
    import pack

    monkeypatch.chdir(tmp_path)
    process_default().reset()
    try:
        pack.set_tracking_uri("sqlite:///relative.db")
        assert pack.get_tracking_uri() == f"sqlite:///{tmp_path}/relative.db"
        assert process_default().services() is process_default().services()  # built once per settings
        assert Client().tracking_uri == pack.get_tracking_uri()
    finally:
        process_default().reset()


@pytest.mark.parametrize("verify", ["cached", "always", "off"])
def test_settings_reach_the_policy(tmp_path: Path, verify: str) -> None:
    services = Services.from_settings(_settings(tmp_path, "v").model_copy(update={"verify": verify}))
    assert services.registry.resolver.verifier.mode == verify
    assert services.registry.user == "bob"
    services.close()
