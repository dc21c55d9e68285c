"""MLflow's search syntax: filter strings, ``order_by`` terms and page tokens.

Filter: clauses joined by ``AND``; a clause is ``identifier operator value``, e.g.
``name = 'm' AND tags.team = "fraud"``, ``metrics.acc > 0.9``, ``run_id IN ('a', 'b')``.
Identifiers are a bare attribute (``name``) or ``prefix.key`` where the prefix is ``tags``,
``params``, ``metrics`` or ``attributes`` (singular forms too); keys may be back-quoted.
Operators: ``= != < <= > >= LIKE ILIKE IN NOT IN``. Values: quoted strings, numbers, or a
parenthesised list for ``IN``. What each store accepts is checked where the clauses are applied.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from pack.errors import InvalidInput

_PREFIXES = {
    "tags": "tags",
    "tag": "tags",
    "params": "params",
    "param": "params",
    "metrics": "metrics",
    "metric": "metrics",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<ident>(?:`[^`]+`|[A-Za-z_][\w]*)(?:\.(?:`[^`]+`|"[^"]+"|[\w.\-/:]+))?)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Clause:
    """One comparison: ``prefix`` is ``attributes``, ``tags``, ``params`` or ``metrics``."""

    prefix: str
    key: str
    op: str
    value: Any


@dataclass(frozen=True)
class OrderTerm:
    """One ``order_by`` term."""

    key: str
    ascending: bool


def parse_filter(text: str | None) -> list[Clause]:
    """Parse a filter string into clauses (empty or None: no clauses).

    Raises:
        InvalidInput: the string is not valid filter syntax.
    """
    if text is None or not text.strip():
        return []
    tokens = _tokenize(text)
    clauses: list[Clause] = []
    position = 0
    while True:
        clause, position = _parse_clause(tokens, position, text)
        clauses.append(clause)
        if position == len(tokens):
            return clauses
        kind, value = tokens[position]
        if kind != "ident" or value.upper() != "AND":
            raise InvalidInput(f"invalid filter {text!r}: expected AND, got {value!r} (OR is not supported)")
        position += 1


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInput(f"invalid filter {text!r} near {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _parse_clause(tokens: list[tuple[str, str]], position: int, text: str) -> tuple[Clause, int]:
    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise InvalidInput(f"invalid filter {text!r}: incomplete clause")
        token = tokens[position]
        position += 1
        return token

    kind, ident = take()
    if kind != "ident":
        raise InvalidInput(f"invalid filter {text!r}: expected an identifier, got {ident!r}")
    prefix, key = _split_identifier(ident, text)
    kind, op = take()
    op = op.upper()
    if kind == "ident" and op == "NOT":
        kind, follow = take()
        if follow.upper() != "IN":
            raise InvalidInput(f"invalid filter {text!r}: expected IN after NOT")
        op = "NOT IN"
    elif kind == "ident" and op not in ("LIKE", "ILIKE", "IN"):
        raise InvalidInput(f"invalid filter {text!r}: unknown operator {op!r}")
    elif kind not in ("op", "ident"):
        raise InvalidInput(f"invalid filter {text!r}: expected an operator after {ident!r}")
    if op in ("IN", "NOT IN"):
        kind, paren = take()
        if paren != "(":
            raise InvalidInput(f"invalid filter {text!r}: {op} needs a parenthesised list")
        values: list[Any] = []
        while True:
            values.append(_literal(take(), text))
            kind, sep = take()
            if sep == ")":
                break
            if sep != ",":
                raise InvalidInput(f"invalid filter {text!r}: expected ',' or ')' in {op} list")
        return Clause(prefix, key, op, tuple(values)), position
    return Clause(prefix, key, op, _literal(take(), text)), position


def _split_identifier(ident: str, text: str) -> tuple[str, str]:
    head, dot, rest = ident.partition(".")
    if dot and head.lower() in _PREFIXES:
        return _PREFIXES[head.lower()], unquote_key(rest)
    if dot:
        raise InvalidInput(f"invalid filter {text!r}: unknown prefix {head!r} in {ident!r}")
    return "attributes", unquote_key(ident)


def unquote_key(key: str) -> str:
    """A key without the back-quotes or double quotes around it (``metrics.`my loss```)."""
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "`\"'":
        return key[1:-1]
    return key


def _literal(token: tuple[str, str], text: str) -> Any:
    kind, value = token
    if kind == "string":
        body = value[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    if kind == "number":
        return float(value) if any(c in value for c in ".eE") else int(value)
    raise InvalidInput(f"invalid filter {text!r}: expected a quoted string or number, got {value!r}")


def parse_order_by(terms: Sequence[str] | None, allowed: Sequence[str]) -> list[OrderTerm]:
    """Parse ``["name ASC", "version_number DESC"]``.

    Raises:
        InvalidInput: an unknown key or direction.
    """
    result: list[OrderTerm] = []
    for term in terms or ():
        parts = term.split()
        if not parts or len(parts) > 2:
            raise InvalidInput(f"invalid order_by term {term!r}")
        key = parts[0].removeprefix("attributes.").removeprefix("attribute.")
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if key not in allowed:
            raise InvalidInput(f"cannot order by {key!r} (allowed: {', '.join(allowed)})")
        if direction not in ("ASC", "DESC"):
            raise InvalidInput(f"invalid order_by direction {parts[1]!r} (ASC or DESC)")
        result.append(OrderTerm(key, direction == "ASC"))
    return result


def encode_page_token(offset: int) -> str:
    """An opaque token for the page that starts at ``offset``."""
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a page token stands for (0 for None).

    Raises:
        InvalidInput: the token was not made by ``encode_page_token``.
    """
    if not token:
        return 0
    try:
        document = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        offset = document["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput(f"invalid page token {token!r}") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"invalid page token {token!r}")
    return offset


def check_max_results(max_results: int, limit: int) -> int:
    """Validate a page size.

    Raises:
        InvalidInput: not between 1 and ``limit``.
    """
    if not isinstance(max_results, int) or not 1 <= max_results <= limit:
        raise InvalidInput(f"max_results must be between 1 and {limit}, got {max_results!r}")
    return max_results


__all__ = [
    "Clause",
    "OrderTerm",
    "check_max_results",
    "decode_page_token",
    "encode_page_token",
    "parse_filter",
    "parse_order_by",
    "unquote_key",
]
