"""Filter clauses (``pack.store.sql.search``) as SQL conditions, and the operators each identifier takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists

from pack.errors import InvalidInput
from pack.store.sql.search import Clause

STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
"""Operators on string columns (names, tags, params)."""


def compare(column: Any, clause: Clause, value: Any = None) -> ColumnElement[bool]:
    """``column <op> value`` for one filter clause (``value`` defaults to the clause's)."""
    value = clause.value if value is None else value
    op = clause.op
    if op in ("IN", "NOT IN"):
        return column.in_(value) if op == "IN" else column.not_in(value)  # type: ignore[no-any-return]
    if isinstance(value, tuple):
        raise InvalidInput(f"{op} takes one value, not a list")
    result: ColumnElement[bool]
    if op == "=":
        result = column == value
    elif op == "!=":
        result = column != value
    elif op == "<":
        result = column < value
    elif op == "<=":
        result = column <= value
    elif op == ">":
        result = column > value
    elif op == ">=":
        result = column >= value
    elif op == "LIKE":
        result = column.like(value)
    elif op == "ILIKE":
        result = column.ilike(value)
    else:  # pragma: no cover - the parser admits only the operators above
        raise InvalidInput(f"unsupported operator {op!r}")
    return result


PROMPT_TAG = "mlflow.prompt.is_prompt"


def tag_condition(table: Any, owner: Sequence[ColumnElement[bool]], clause: Clause) -> ColumnElement[bool]:
    """A tag clause on registry objects: the object has the tag with a matching value. As in MLflow,
    ``tags.`mlflow.prompt.is_prompt` != 'true'`` (which MLflow's client adds to every model search, to
    leave out prompts) also matches objects without that tag."""
    check_ops(clause, STRING_OPS)
    if clause.key == PROMPT_TAG and clause.op in ("!=", "NOT IN"):
        positive = Clause(clause.prefix, clause.key, "=" if clause.op == "!=" else "IN", clause.value)
        return ~exists().where(*owner, table.c.key == clause.key, compare(table.c.value, positive))
    return exists().where(*owner, table.c.key == clause.key, compare(table.c.value, clause))


def check_ops(clause: Clause, allowed: Sequence[str]) -> None:
    """Refuse an operator an identifier does not support.

    Raises:
        InvalidInput: the operator is not allowed for this identifier.
    """
    if clause.op not in allowed:
        name = clause.key if clause.prefix == "attributes" else f"{clause.prefix}.{clause.key}"
        raise InvalidInput(f"operator {clause.op} is not supported for {name} (use: {', '.join(allowed)})")


__all__ = ["PROMPT_TAG", "STRING_OPS", "check_ops", "compare", "tag_condition"]
