"""``search_runs``: MLflow's run filter (``metrics.acc > 0.9 AND params.depth = '8' AND
tags.team = 'x' AND attributes.status = 'FINISHED'``) and ``order_by`` as one SELECT.

Metrics compare against a run's latest value of the key (highest step, then timestamp).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, select

from pack.errors import InvalidInput
from pack.store.sql.conditions import STRING_OPS, check_ops, compare
from pack.store.sql.search import Clause, parse_filter, unquote_key
from pack.store.sql.tables import metrics, params, run_tags, runs

_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
_ATTRIBUTES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "run_id": (runs.c.run_id, STRING_OPS),
    "run_name": (runs.c.name, STRING_OPS),
    "status": (runs.c.status, STRING_OPS),
    "user_id": (runs.c.user_id, STRING_OPS),
    "artifact_uri": (runs.c.artifact_uri, STRING_OPS),
    "start_time": (runs.c.start_time, _NUMBER_OPS),
    "end_time": (runs.c.end_time, _NUMBER_OPS),
}


def run_search_statement(
    experiment_ids: Sequence[int],
    stages: Sequence[str],
    filter_string: str | None,
    order_by: Sequence[str] | None,
) -> Select[Any]:
    """The SELECT of matching run rows, ordered (``start_time DESC`` by default).

    Raises:
        InvalidInput: bad filter or order.
    """
    statement = select(runs).where(runs.c.experiment_id.in_(experiment_ids), runs.c.lifecycle_stage.in_(stages))
    for clause in parse_filter(filter_string):
        statement = statement.where(_condition(clause))
    order = [_order_term(term) for term in order_by or ()]
    order.extend([runs.c.start_time.desc(), runs.c.run_id.asc()])
    return statement.order_by(*order)


def _latest_metric(key: str) -> Any:
    return (
        select(metrics.c.value)
        .where(metrics.c.run_id == runs.c.run_id, metrics.c.key == key)
        .order_by(metrics.c.step.desc(), metrics.c.timestamp.desc(), metrics.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _condition(clause: Clause) -> Any:
    if clause.prefix == "metrics":
        check_ops(clause, _NUMBER_OPS)
        if not isinstance(clause.value, (int, float)):
            raise InvalidInput(f"metrics.{clause.key} compares with a number, got {clause.value!r}")
        return compare(_latest_metric(clause.key), clause)
    if clause.prefix in ("params", "tags"):
        check_ops(clause, STRING_OPS)
        table = params if clause.prefix == "params" else run_tags
        return exists().where(
            table.c.run_id == runs.c.run_id, table.c.key == clause.key, compare(table.c.value, clause)
        )
    if clause.key not in _ATTRIBUTES:
        raise InvalidInput(
            f"cannot filter runs on attribute {clause.key!r} (use: {', '.join(_ATTRIBUTES)}, "
            "metrics.<key>, params.<key>, tags.<key>)"
        )
    column, ops = _ATTRIBUTES[clause.key]
    check_ops(clause, ops)
    return compare(column, clause)


def _order_term(term: str) -> Any:
    parts = term.rsplit(None, 1)
    direction = "ASC"
    if len(parts) == 2 and parts[1].upper() in ("ASC", "DESC"):
        term, direction = parts[0], parts[1].upper()
    prefix, dot, key = term.strip().partition(".")
    if not dot:
        prefix, key = "attributes", prefix
    key = unquote_key(key)
    prefix = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}.get(prefix, prefix)
    if prefix == "metrics":
        column = _latest_metric(key)
    elif prefix in ("params", "tags"):
        table = params if prefix == "params" else run_tags
        column = select(table.c.value).where(table.c.run_id == runs.c.run_id, table.c.key == key).scalar_subquery()
    elif prefix == "attributes" and key in _ATTRIBUTES:
        column = _ATTRIBUTES[key][0]
    else:
        raise InvalidInput(f"cannot order runs by {term!r}")
    return column.asc() if direction == "ASC" else column.desc()


__all__ = ["run_search_statement"]
