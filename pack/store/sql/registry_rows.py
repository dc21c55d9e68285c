"""Rows of the registry tables: lookups, the per-model write lock, history events, row -> entity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.engine import Connection

from pack.errors import NotFound
from pack.store.entities import ModelVersion, PromotionEvent
from pack.store.sql.tables import (
    model_version_tags,
    model_versions,
    promotion_history,
    registered_model_aliases,
    registered_models,
)

mv = model_versions
rm = registered_models
ra = registered_model_aliases
mvt = model_version_tags
VERSION_COLUMNS = (rm.c.name, *mv.c)
_MODEL_AT, _VERSION_AT = 1, 2  # positions of model_id and version in a VERSION_COLUMNS row
_new = object.__new__
_set = object.__setattr__

# Statements on the hot paths are built once; SQLAlchemy then reuses their compiled form.
_MODEL_ID = select(rm.c.id).where(rm.c.name == bindparam("name"))
_VERSION = (
    select(*VERSION_COLUMNS)
    .join_from(mv, rm, mv.c.model_id == rm.c.id)
    .where(mv.c.model_id == bindparam("model"), mv.c.version == bindparam("version"))
)
_PAGE_TAGS = select(mvt).where(
    mvt.c.model_id.in_(bindparam("ids", expanding=True)), mvt.c.version.between(bindparam("low"), bindparam("high"))
)
_PAGE_ALIASES = (
    select(ra)
    .where(
        ra.c.model_id.in_(bindparam("ids", expanding=True)), ra.c.version.between(bindparam("low"), bindparam("high"))
    )
    .order_by(ra.c.alias)
)


def model_id(conn: Connection, name: str) -> int:
    """The id of registered model ``name``.

    Raises:
        NotFound: no such model.
    """
    found = conn.execute(_MODEL_ID, {"name": name}).scalar()
    if found is None:
        raise NotFound(f"registered model {name!r} not found")
    return int(found)


def lock_model(conn: Connection, name: str, timestamp: int) -> int:
    """Touch the model's row inside a write transaction (serialising changes to one model); its id.

    Raises:
        NotFound: no such model.
    """
    found = conn.execute(
        update(rm).where(rm.c.name == name).values(last_updated_time=timestamp).returning(rm.c.id)
    ).scalar()
    if found is None:
        raise NotFound(f"registered model {name!r} not found")
    return int(found)


def version_row(conn: Connection, model: int, name: str, version: int) -> Row[Any]:
    """One version's row (with the model's name).

    Raises:
        NotFound: no such version.
    """
    row = conn.execute(_VERSION, {"model": model, "version": version}).first()
    if row is None:
        raise NotFound(f"model {name!r} has no version {version}")
    return row


def to_versions(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[ModelVersion]:
    """Entities for ``VERSION_COLUMNS`` rows, with their tags and aliases (two queries for the whole page)."""
    if not rows:
        return []
    versions = [row[_VERSION_AT] for row in rows]
    page = {"ids": sorted({row[_MODEL_AT] for row in rows}), "low": min(versions), "high": max(versions)}
    tags: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    for tag in conn.execute(_PAGE_TAGS, page):
        tags[(tag.model_id, tag.version)][tag.key] = tag.value
    aliases: dict[tuple[int, int], list[str]] = defaultdict(list)
    for alias in conn.execute(_PAGE_ALIASES, page):
        aliases[(alias.model_id, alias.version)].append(alias.alias)
    flavors: dict[str | None, tuple[str, ...]] = {}
    return [to_version(row, tags, aliases, flavors) for row in rows]


def to_version(
    row: Sequence[Any],
    tags: Mapping[tuple[int, int], dict[str, str]],
    aliases: Mapping[tuple[int, int], list[str]],
    flavor_tuples: dict[str | None, tuple[str, ...]] | None = None,
) -> ModelVersion:
    """One version entity from a ``VERSION_COLUMNS`` row (unpacked by position: listing 10,000
    versions spends most of its time here, and attribute access by name costs three times more).

    The entity gets its whole ``__dict__`` at once: a frozen dataclass's ``__init__`` sets each of its
    20 fields through ``object.__setattr__``, which made up half the time of a 10,000-row listing.
    Every field is given (``tests/store/sql/test_registry_rows.py`` checks the result equals the
    ``ModelVersion(...)`` of the same values). ``flavor_tuples`` (per page) shares one tuple between
    the versions with the same flavors instead of splitting the string again for each.
    """
    (
        name,
        model,
        version,
        created,
        updated,
        description,
        user_id,
        stage,
        source,
        run_id,
        run_link,
        status,
        message,
        location,
        size,
        count,
        flavors,
        signature,
        logged_model_id,
    ) = row
    key = (model, version)
    flavor_tuple = None if flavor_tuples is None else flavor_tuples.get(flavors)
    if flavor_tuple is None:
        flavor_tuple = tuple(flavors.split(",")) if flavors else ()
        if flavor_tuples is not None:
            flavor_tuples[flavors] = flavor_tuple
    entity = _new(ModelVersion)
    _set(
        entity,
        "__dict__",
        {
            "name": name,
            "version": version,
            "creation_timestamp": created,
            "last_updated_timestamp": updated,
            "current_stage": stage,
            "description": description,
            "user_id": user_id,
            "source": source,
            "run_id": run_id,
            "run_link": run_link,
            "status": status,
            "status_message": message,
            "tags": tags.get(key, {}),
            "aliases": tuple(aliases.get(key, ())),
            "storage_location": location,
            "size_bytes": size,
            "file_count": count,
            "flavors": flavor_tuple,
            "signature": signature,
            "model_id": logged_model_id,
        },
    )
    return entity


def record(
    conn: Connection,
    model: int,
    version: int,
    kind: str,
    *,
    user: str,
    timestamp: int,
    alias: str | None = None,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
) -> None:
    """Append one promotion-history event (in the caller's transaction)."""
    conn.execute(
        promotion_history.insert().values(
            model_id=model,
            version=version,
            kind=kind,
            alias=alias,
            from_value=from_value,
            to_value=to_value,
            user_id=user,
            timestamp=timestamp,
            reason=reason,
        )
    )


def set_stage(
    conn: Connection,
    model: int,
    version: int,
    *,
    old: str,
    new: str,
    user: str,
    timestamp: int,
    reason: str | None = None,
) -> None:
    """Move a version from stage ``old`` to ``new`` and record it (in the caller's transaction)."""
    conn.execute(
        update(mv)
        .where(mv.c.model_id == model, mv.c.version == version)
        .values(current_stage=new, last_updated_time=timestamp)
    )
    record(conn, model, version, "stage", user=user, timestamp=timestamp, from_value=old, to_value=new, reason=reason)


def to_event(row: Row[Any]) -> PromotionEvent:
    """One history entity."""
    return PromotionEvent(
        id=int(row.id),
        name=row.name,
        version=int(row.version),
        kind=row.kind,
        alias=row.alias,
        from_value=row.from_value,
        to_value=row.to_value,
        user=row.user_id,
        timestamp=int(row.timestamp),
        reason=row.reason,
    )


__all__ = [
    "VERSION_COLUMNS",
    "lock_model",
    "model_id",
    "record",
    "set_stage",
    "to_event",
    "to_version",
    "to_versions",
    "version_row",
]
