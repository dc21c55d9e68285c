"""The registry contract, on every backend (SQL in process; pack's REST store against ``pack server`` and
``mlflow server``): versions registered from real model directories, searched, tagged, promoted, aliased,
resolved to verified local files, and deleted, through the ``Registry`` and its ``RegistryStore``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from devtools.tracking_servers import MLFLOW
from pack.errors import AlreadyExists, InvalidInput, NotFound, RegistryError
from pack.refs import ModelRef
from tests.store.backends import Backend, backend

__all__ = ["backend"]


def _register(backend: Backend, name: str, model_dir: Path, count: int, **kwargs):
    return [backend.registry.register_model(str(model_dir), name, **kwargs) for _ in range(count)]


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_registered_files_resolve_to_a_verified_local_copy(backend: Backend, model_dir: Path):
    name = backend.name("iris")
    version = backend.registry.register_model(str(model_dir), name, description="first", tags={"k": "v"})
    assert (version.version, version.status, version.description, dict(version.tags)) == (
        1,
        "READY",
        "first",
        {"k": "v"},
    )
    local = backend.registry.resolve_path(ModelRef.parse(f"models:/{name}/1"))
    assert _files(local) == _files(model_dir)
    path, files = backend.registry.fetch(backend.registry.get_model_version(name, 1))
    assert path == local and {f.path: f.sha256 for f in files} == _files(model_dir)
    if backend.kind != MLFLOW:  # MLflow's server records no checksums: the client keeps those of its first download
        recorded = backend.registry.get_model_version_files(name, 1)
        assert {f.path: f.sha256 for f in recorded} == _files(model_dir)
    assert backend.registry.get_model_version_download_uri(name, 1)
    with backend.raises(NotFound):
        backend.registry.resolve_path(ModelRef.parse(f"models:/{name}/7"))


def test_search_model_versions_filters(backend: Backend, model_dir: Path):
    fraud, churn = backend.name("fraud"), backend.name("churn")
    runs = [backend.tracking.create_run("0", user_id="u").info.run_id for _ in range(2)]
    for name in (fraud, churn):
        backend.registry.create_registered_model(name)
    _register(backend, fraud, model_dir, 3, run_id=runs[0])
    _register(backend, churn, model_dir, 2, run_id=runs[1])
    backend.registry.set_model_version_tag(fraud, 2, "team", "risk")
    backend.registry.set_model_version_tag(churn, 1, "team", "growth")
    backend.registry.transition_stage(fraud, 3, "Production")
    mine = f"name LIKE '%{backend.suffix}'"

    def found(query):
        return [(v.name, v.version) for v in backend.registry.search_model_versions(query)]

    assert found(f"name='{fraud}'") == [(fraud, 3), (fraud, 2), (fraud, 1)]
    assert sorted(found(mine)) == sorted([(churn, 2), (churn, 1), (fraud, 3), (fraud, 2), (fraud, 1)])
    assert found(f"name LIKE 'fr%{backend.suffix}'") == found(f"name='{fraud}'")
    assert found(f"name ILIKE 'FR%{backend.suffix}'") == found(f"name='{fraud}'")
    assert found(f"{mine} AND tags.team = 'risk'") == [(fraud, 2)]
    assert sorted(found(f"run_id = '{runs[1]}'")) == [(churn, 1), (churn, 2)]
    assert found(f"run_id IN ('{runs[0]}', 'x') AND version_number >= 2") == [(fraud, 3), (fraud, 2)]
    first = backend.registry.search_model_versions(f"name='{fraud}'")
    assert (first[0].tags, first[0].aliases, first[0].current_stage) == ({}, (), "Production")
    assert first[1].tags == {"team": "risk"}
    for query in ("name = 'x' OR name = 'y'", "metrics.acc > 1", "name =", "name = 'unterminated"):
        with backend.raises(InvalidInput):
            backend.registry.search_model_versions(query)


def test_search_pages_with_tokens(backend: Backend, model_dir: Path):
    name = backend.name("m")
    backend.registry.create_registered_model(name)
    _register(backend, name, model_dir, 5)
    seen, token, pages = [], None, 0
    while True:
        page = backend.registry.search_model_versions(f"name='{name}'", max_results=2, page_token=token)
        seen += [v.version for v in page]
        pages += 1
        token = page.token
        if token is None:
            break
    assert (seen, pages) == ([5, 4, 3, 2, 1], 3)
    ordered = backend.registry.search_model_versions(f"name='{name}'", max_results=3, order_by=["version_number ASC"])
    assert [v.version for v in ordered] == [1, 2, 3] and ordered.token
    with backend.raises(InvalidInput):
        backend.registry.search_model_versions(f"name='{name}'", page_token="garbage")


def test_search_registered_models(backend: Backend, model_dir: Path):
    names = [backend.name(n) for n in ("alpha", "beta", "delta", "gamma")]
    for name in names:
        backend.registry.create_registered_model(name, tags={"kind": "vowel" if name[0] in "aeiou" else "consonant"})
    beta = names[1]
    _register(backend, beta, model_dir, 2)
    backend.registry.transition_stage(beta, 1, "Production")
    backend.registry.set_alias(beta, "champion", 1)
    mine = f"name LIKE '%{backend.suffix}'"
    assert [m.name for m in backend.registry.search_registered_models(mine)] == names
    assert [m.name for m in backend.registry.search_registered_models(f"{mine} AND tags.kind = 'vowel'")] == names[:1]
    first = backend.registry.search_registered_models(mine, max_results=2)
    second = backend.registry.search_registered_models(mine, max_results=2, page_token=first.token)
    assert [m.name for m in first] + [m.name for m in second] == names
    got = backend.registry.get_registered_model(beta)
    assert got.aliases == {"champion": 1}
    assert {(v.version, v.current_stage) for v in got.latest_versions} == {(1, "Production"), (2, "None")}
    with backend.raises(InvalidInput):
        backend.registry.search_registered_models("run_id = 'x'")


def test_the_prompt_filter_mlflows_client_adds_keeps_models_without_the_tag(backend: Backend):
    model, prompt = backend.name("model"), backend.name("prompt")
    backend.registry.create_registered_model(model)
    backend.registry.create_registered_model(prompt, tags={"mlflow.prompt.is_prompt": "true"})
    mine = f"name LIKE '%{backend.suffix}'"

    def found(query: str) -> list[str]:
        return [m.name for m in backend.registry.search_registered_models(f"{mine} AND {query}")]

    assert found("tag.`mlflow.prompt.is_prompt` != 'true'") == [model]
    assert found("tags.`mlflow.prompt.is_prompt` = 'true'") == [prompt]


def test_tags_and_descriptions(backend: Backend, model_dir: Path):
    name = backend.name("m")
    backend.registry.create_registered_model(name, description="first")
    _register(backend, name, model_dir, 1)
    backend.registry.set_registered_model_tag(name, "k", "v1")
    backend.registry.set_registered_model_tag(name, "k", "v2")
    assert backend.registry.get_registered_model(name).tags == {"k": "v2"}
    backend.registry.delete_registered_model_tag(name, "k")
    assert backend.registry.get_registered_model(name).tags == {}
    assert backend.registry.update_registered_model(name, "second").description == "second"
    backend.registry.set_model_version_tag(name, 1, "approved", "yes")
    assert backend.registry.get_model_version(name, 1).tags == {"approved": "yes"}
    backend.registry.delete_model_version_tag(name, 1, "approved")
    assert backend.registry.get_model_version(name, 1).tags == {}
    assert backend.registry.update_model_version(name, 1, "v1 notes").description == "v1 notes"
    with backend.raises(AlreadyExists):
        backend.registry.create_registered_model(name)


def test_stages_aliases_and_resolution(backend: Backend, model_dir: Path):
    name = backend.name("m")
    backend.registry.create_registered_model(name)
    _register(backend, name, model_dir, 4)
    registry = backend.registry
    registry.transition_stage(name, 1, "Production")
    registry.transition_stage(name, 2, "production")  # archive_existing_versions=False: both stay
    in_production = registry.search_model_versions(f"name='{name}'")
    assert {v.version for v in in_production if v.current_stage == "Production"} == {1, 2}
    assert registry.resolve(ModelRef.parse(f"models:/{name}/Production")).version == 2  # highest in the stage
    assert registry.resolve(ModelRef.parse(f"models:/{name}/latest")).version == 4
    registry.transition_stage(name, 3, "Production", archive_existing_versions=True)
    stages = {v.version: v.current_stage for v in registry.search_model_versions(f"name='{name}'")}
    assert stages == {1: "Archived", 2: "Archived", 3: "Production", 4: "None"}
    assert [v.version for v in registry.get_latest_versions(name, ["Production"])] == [3]
    registry.set_alias(name, "challenger", 4)
    assert registry.get_model_version_by_alias(name, "challenger").aliases == ("challenger",)
    assert registry.resolve(ModelRef.parse(f"models:/{name}@challenger")).version == 4
    with backend.raises(NotFound, match="no ready version in stage Staging"):
        registry.resolve(ModelRef.parse(f"models:/{name}/Staging"))
    registry.delete_alias(name, "challenger")
    with backend.raises(InvalidInput if backend.kind == MLFLOW else NotFound):  # MLflow: INVALID_PARAMETER_VALUE
        registry.get_model_version_by_alias(name, "challenger")
    with backend.raises(NotFound):
        registry.get_model_version_by_alias(backend.name("ghost"), "challenger")


def test_history_records_who_when_from_and_to(backend: Backend, model_dir: Path):
    name = backend.name("m")
    _register(backend, name, model_dir, 2)
    backend.registry.transition_stage(name, 1, "Staging")
    backend.registry.set_alias(name, "champion", 2)
    if backend.kind == MLFLOW:  # pack's history extension is pack server's
        with pytest.raises(RegistryError, match="records no promotion history"):
            backend.registry.history(name)
        return
    events = list(backend.registry.history(name))
    assert [(e.version, e.kind, e.alias, e.from_value, e.to_value) for e in reversed(events)] == [
        (1, "stage", None, "None", "Staging"),
        (2, "alias", "champion", None, "2"),
    ]
    assert all(e.user for e in events) and all(e.timestamp for e in events)
    assert [e.kind for e in backend.registry.history(name, version=1)] == ["stage"]


def test_copy_rename_and_delete(backend: Backend, model_dir: Path):
    registry = backend.registry
    old, new, copy = backend.name("old"), backend.name("new"), backend.name("copy")
    registry.create_registered_model(old, tags={"team": "fraud"})
    _register(backend, old, model_dir, 2)
    registry.set_alias(old, "champion", 1)
    copied = registry.register_model(f"models:/{old}@champion", copy)
    assert (copied.name, copied.version) == (copy, 1)
    assert _files(registry.resolve_path(ModelRef.parse(f"models:/{copy}/1"))) == _files(model_dir)
    renamed = registry.rename_registered_model(old, new)
    assert (renamed.name, dict(renamed.tags), dict(renamed.aliases)) == (new, {"team": "fraud"}, {"champion": 1})
    assert registry.resolve(ModelRef.parse(f"models:/{new}@champion")).version == 1
    with backend.raises(NotFound):
        registry.get_registered_model(old)
    with backend.raises(AlreadyExists):
        registry.rename_registered_model(new, copy)
    registry.delete_model_version(new, 2)
    with backend.raises(NotFound):
        registry.get_model_version(new, 2)
    assert _register(backend, new, model_dir, 1)[0].version == 3  # numbers are never reused
    registry.delete_registered_model(new)
    with backend.raises(NotFound):
        registry.get_registered_model(new)


def test_bad_input_gives_clear_errors(backend: Backend, model_dir: Path, tmp_path: Path):
    name = backend.name("m")
    registry = backend.registry
    _register(backend, name, model_dir, 1)
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    cases = [
        (InvalidInput, "unknown stage 'Prod'", lambda: registry.transition_stage(name, 1, "Prod")),
        (InvalidInput, "invalid alias", lambda: registry.set_alias(name, "bad alias", 1)),
        (NotFound, "has no version 7", lambda: registry.set_alias(name, "best", 7)),
        (NotFound, "has no version 7", lambda: registry.transition_stage(name, 7, "Production")),
        (NotFound, "not found", lambda: registry.get_model_version(backend.name("ghost"), 1)),
        (NotFound, "not found", lambda: registry.create_model_version(backend.name("ghost"), str(model_dir))),
        (NotFound, "no model at", lambda: registry.create_model_version(name, str(tmp_path / "absent"))),
        (NotFound, "no MLmodel file", lambda: registry.create_model_version(name, str(not_a_model))),
        (InvalidInput, "invalid model name", lambda: registry.create_registered_model("a/b")),
    ]
    if backend.kind != MLFLOW:  # MLflow's server deletes a missing alias without a word
        cases.append((NotFound, "no alias 'ghost'", lambda: registry.delete_alias(name, "ghost")))
    for error, message, action in cases:
        with backend.raises(error, match=message):
            action()
    assert [v.version for v in registry.search_model_versions(f"name='{name}'")] == [1]


def test_register_from_a_run(backend: Backend, model_dir: Path):
    run_id = backend.tracking.create_run("0", user_id="u").info.run_id
    backend.runs.artifact_store(run_id).child("clf").put_tree(model_dir, fsync=False)
    name = backend.name("from-run")
    version = backend.registry.register_model(f"runs:/{run_id}/clf", name)
    assert (version.version, version.run_id) == (1, run_id)
    assert _files(backend.registry.resolve_path(ModelRef.parse(f"models:/{name}/1"))) == _files(model_dir)
    with backend.raises(NotFound):
        backend.registry.register_model(f"runs:/{run_id}/nothing", name)
    assert [v.version for v in backend.registry.search_model_versions(f"name='{name}'")] == [1]
