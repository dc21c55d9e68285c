"""``search_model_versions``: MLflow's filter identifiers on the version table, paged.

Identifiers: ``name``, ``version_number``, ``run_id``, ``source_path``, ``current_stage``, ``status``
and ``tags.<key>``. Default order: ``name ASC, version_number DESC``; when the filter pins one
name with ``=``, the name term is dropped so the primary key index delivers the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pack._gc import collector_paused
from pack.errors import InvalidInput
from pack.store.entities import ModelVersion, PagedList, Stage
from pack.store.sql import registry_rows as rows
from pack.store.sql.conditions import STRING_OPS, check_ops, compare, tag_condition
from pack.store.sql.search import (
    Clause,
    check_max_results,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
)
from pack.store.sql.tables import model_version_tags

mv = rows.mv
rm = rows.rm
MAX_RESULTS = 200_000
_EQUALITY_OPS = ("=", "!=", "IN", "NOT IN")
_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN")
_COLUMNS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "name": (rm.c.name, STRING_OPS),
    "version_number": (mv.c.version, _NUMBER_OPS),
    "run_id": (mv.c.run_id, STRING_OPS),
    "source_path": (mv.c.source, STRING_OPS),
    "current_stage": (mv.c.current_stage, _EQUALITY_OPS),
    "status": (mv.c.status, _EQUALITY_OPS),
}
_ORDER = {
    "name": rm.c.name,
    "version_number": mv.c.version,
    "creation_timestamp": mv.c.creation_time,
    "last_updated_timestamp": mv.c.last_updated_time,
    "current_stage": mv.c.current_stage,
}


def search_versions(
    conn: Connection,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> PagedList[ModelVersion]:
    """One page of versions (``max_results`` up to 200,000) and the token of the next.

    Raises:
        InvalidInput: bad filter, order, page size or token.
    """
    limit = check_max_results(max_results, MAX_RESULTS)
    offset = decode_page_token(page_token)
    clauses = parse_filter(filter_string)
    statement = select(*rows.VERSION_COLUMNS).join_from(mv, rm, mv.c.model_id == rm.c.id)
    for clause in clauses:
        statement = statement.where(_condition(clause))
    one_name = any(c.prefix == "attributes" and c.key == "name" and c.op == "=" for c in clauses)
    terms = parse_order_by(order_by, list(_ORDER)) or parse_order_by(["name ASC", "version_number DESC"], list(_ORDER))
    order = [
        _ORDER[t.key].asc() if t.ascending else _ORDER[t.key].desc()
        for t in terms
        if not (one_name and t.key == "name")
    ]
    if not any(t.key == "version_number" for t in terms):
        order.append(mv.c.version.desc())
    if not one_name and not any(t.key == "name" for t in terms):
        order.append(rm.c.name.asc())
    with collector_paused():  # a page of up to 200,000 acyclic entities: see pack._gc
        found = conn.execute(statement.order_by(*order).limit(limit + 1).offset(offset)).all()
        versions = rows.to_versions(conn, found[:limit])
    return PagedList(versions, encode_page_token(offset + limit) if len(found) > limit else None)


def _condition(clause: Clause) -> Any:
    if clause.prefix == "tags":
        table = model_version_tags
        return tag_condition(table, (table.c.model_id == mv.c.model_id, table.c.version == mv.c.version), clause)
    key = {"version": "version_number", "source": "source_path", "stage": "current_stage"}.get(clause.key, clause.key)
    if clause.prefix != "attributes" or key not in _COLUMNS:
        known = ", ".join([*_COLUMNS, "tags.<key>"])
        raise InvalidInput(f"cannot filter model versions on {clause.key!r} (use: {known})")
    column, ops = _COLUMNS[key]
    check_ops(clause, ops)
    value = clause.value
    if key == "current_stage":
        value = tuple(Stage.parse(v).value for v in value) if isinstance(value, tuple) else Stage.parse(value).value
    elif key == "version_number":
        values = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(v, int) or (isinstance(v, str) and v.isdigit()) for v in values):
            raise InvalidInput(f"version_number takes integers, got {value!r}")
        value = tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)
    return compare(column, clause, value)


__all__ = ["MAX_RESULTS", "search_versions"]
