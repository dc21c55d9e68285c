"""Version rows -> entities: the fast construction gives what ``ModelVersion(...)`` gives."""

from __future__ import annotations

import dataclasses

import pytest

from pack.store.entities import ModelVersion
from pack.store.sql.registry_rows import VERSION_COLUMNS, to_version


@pytest.mark.parametrize("flavors", ["sklearn,python_function", None])
def test_a_row_becomes_the_same_entity_as_the_constructor_builds(flavors: str | None) -> None:
    row = ("m", 7, 3, 10, 20, "desc", "ann", "Staging", "/src", "r1", "link", "READY", None, "/store/m/3", 42, 7)
    row += (flavors, '{"inputs": "[]"}', "m-123")
    assert len(row) == len(VERSION_COLUMNS)
    entity = to_version(row, {(7, 3): {"k": "v"}}, {(7, 3): ["champion"]})
    expected = ModelVersion(
        name="m",
        version=3,
        creation_timestamp=10,
        last_updated_timestamp=20,
        current_stage="Staging",
        description="desc",
        user_id="ann",
        source="/src",
        run_id="r1",
        run_link="link",
        status="READY",
        status_message=None,
        tags={"k": "v"},
        aliases=("champion",),
        storage_location="/store/m/3",
        size_bytes=42,
        file_count=7,
        flavors=("sklearn", "python_function") if flavors else (),
        signature='{"inputs": "[]"}',
        model_id="m-123",
    )
    assert entity == expected and repr(entity) == repr(expected)
    assert set(vars(entity)) == {f.name for f in dataclasses.fields(ModelVersion)}  # every field, no other
    with pytest.raises(dataclasses.FrozenInstanceError):
        entity.version = 4  # type: ignore[misc]


def test_versions_without_tags_or_aliases_do_not_share_them() -> None:
    row = ("m", 1, 1, 1, 1, None, None, "None", None, None, None, "READY", None, None, None, None, None, None, None)
    first, second = to_version(row, {}, {}), to_version(row, {}, {})
    assert first.tags == {} and first.aliases == () and first.tags is not second.tags
