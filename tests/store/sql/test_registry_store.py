"""The SQL registry store on SQLite and PostgreSQL: pending versions, the filter grammar and its messages,
page tokens (what every backend does is in ``tests/store/test_registry_contract.py``)."""

from __future__ import annotations

import gc

import pytest

from pack.errors import InvalidInput, NotFound
from pack.registry.default import process_default
from pack.store.entities import ModelVersionFile, Stage


@pytest.fixture
def store(settings):
    return process_default().services(settings).registry_store


def _add_versions(store, name, count, **kwargs):
    versions = []
    for _ in range(count):
        pending = store.create_model_version(name, source="src", storage_location=lambda v: f"/x/{v}", **kwargs)
        files = [ModelVersionFile("MLmodel", "0" * 64, 10)]
        versions.append(store.finish_model_version(name, pending.version, files, flavors=["sklearn"]))
    return versions


def test_versions_are_pending_until_finished(store):
    store.create_registered_model("m")
    pending = store.create_model_version("m", source="src", storage_location=lambda v: f"/root/m/{v}")
    assert (pending.version, pending.status, pending.storage_location) == (1, "PENDING_REGISTRATION", "/root/m/1")
    with pytest.raises(NotFound, match="no ready version"):
        store.get_highest_version("m")
    ready = store.finish_model_version("m", 1, [ModelVersionFile("a", "f" * 64, 3)])
    assert (ready.status, ready.size_bytes, ready.file_count) == ("READY", 3, 1)
    with pytest.raises(InvalidInput, match="not pending"):
        store.finish_model_version("m", 1, [])
    assert store.get_highest_version("m").version == 1


def test_search_model_versions_filters(store):
    store.create_registered_model("fraud")
    store.create_registered_model("churn")
    _add_versions(store, "fraud", 3, run_id="r1")
    _add_versions(store, "churn", 2, run_id="r2")
    store.set_model_version_tag("fraud", 2, "team", "risk")
    store.set_model_version_tag("churn", 1, "team", "growth")
    store.transition_model_version_stage("fraud", 3, Stage.PRODUCTION, archive_existing_versions=False, user="u")

    def found(query):
        return [(v.name, v.version) for v in store.search_model_versions(query)]

    assert found("name='fraud'") == [("fraud", 3), ("fraud", 2), ("fraud", 1)]
    assert found("") == [("churn", 2), ("churn", 1), ("fraud", 3), ("fraud", 2), ("fraud", 1)]
    assert found("name LIKE 'fr%'") == found("name='fraud'")
    assert found("name ILIKE 'FR%'") == found("name='fraud'")
    assert found("name LIKE 'FR%'") == []  # LIKE is case-sensitive on both databases
    assert found("tags.team = 'risk'") == [("fraud", 2)]
    assert found("tags.team != 'risk'") == [("churn", 1)]
    assert found("run_id = 'r2'") == [("churn", 2), ("churn", 1)]
    assert found("run_id IN ('r1', 'x') AND version_number >= 2") == [("fraud", 3), ("fraud", 2)]
    assert found("name = 'fraud' AND current_stage = 'production'") == [("fraud", 3)]
    assert found("version_number IN (1)") == [("churn", 1), ("fraud", 1)]
    assert found("source_path = 'src' AND name NOT IN ('churn')") == found("name='fraud'")
    page = store.search_model_versions("name='fraud'")[0]
    assert (page.tags, page.aliases) == ({}, ())
    assert store.search_model_versions("name='fraud'")[1].tags == {"team": "risk"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("name = 'x' OR name = 'y'", "OR is not supported"),
        ("metrics.acc > 1", "cannot filter model versions"),
        ("colour = 'red'", "cannot filter model versions"),
        ("name > 'a'", "operator > is not supported for name"),
        ("version_number = 'abc'", "takes integers"),
        ("current_stage = 'Prod'", "unknown stage"),
        ("name =", "incomplete clause"),
        ("name = 'unterminated", "invalid filter"),
    ],
)
def test_search_model_versions_refuses_bad_filters(store, query, message):
    with pytest.raises(InvalidInput, match=message):
        store.search_model_versions(query)


def test_search_pages_with_tokens(store):
    store.create_registered_model("m")
    _add_versions(store, "m", 7)
    seen, token, pages = [], None, 0
    while True:
        page = store.search_model_versions("name='m'", max_results=3, page_token=token)
        seen += [v.version for v in page]
        pages += 1
        token = page.token
        if token is None:
            break
    assert (seen, pages) == ([7, 6, 5, 4, 3, 2, 1], 3)
    ordered = store.search_model_versions("name='m'", max_results=4, order_by=["version_number ASC"])
    assert [v.version for v in ordered] == [1, 2, 3, 4] and ordered.token
    with pytest.raises(InvalidInput, match="invalid page token"):
        store.search_model_versions("name='m'", page_token="garbage")
    with pytest.raises(InvalidInput, match="max_results"):
        store.search_model_versions("name='m'", max_results=0)
    with pytest.raises(InvalidInput, match="cannot order by"):
        store.search_model_versions("name='m'", order_by=["colour"])


def test_a_large_page_is_built_without_a_garbage_collection(settings):
    """10,000 versions made some 90 young collections and, now and then, a full collection of the whole
    process (most of the listing's time); the entities hold no cycles, so the collector is paused."""
    from sqlalchemy import insert

    from pack.store.sql.tables import model_versions

    services = process_default().services(settings)
    store = services.registry_store
    store.create_registered_model("m")
    model = _add_versions(store, "m", 1)[0]
    row = {"current_stage": "None", "status": "READY", "source": "src", "flavors": "sklearn"}
    rows = [{**row, "model_id": 1, "version": v, "creation_time": v, "last_updated_time": v} for v in range(2, 3001)]
    services.databases[0].transact(lambda conn: conn.execute(insert(model_versions), rows))
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(count)
    try:
        page = store.search_model_versions("name='m'", max_results=5_000)
    finally:
        gc.callbacks.remove(count)
    assert [v.version for v in page] == list(range(3000, 0, -1)) and page[-1] == model
    # At most the one collection the pending objects trigger once the collector is back: young (0) or, when
    # the process's earlier collections left the middle generation's count at its threshold, middle (1);
    # never the full one, never one per batch of allocations.
    assert collections in ([], [0], [1]) and gc.isenabled()
