"""The fields of one API request: query parameters (GET) or a JSON object body, checked by type.

MLflow's client sends GET fields as query parameters (repeated fields repeated), everything else as a
JSON body; some clients send query parameters with POST or DELETE too, so both are read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from pack.errors import InvalidInput

_INT64 = 2**63
_SPECIAL = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf, "-inf": -math.inf}


class Params:
    """Typed access to a request's fields; every bad value is ``InvalidInput`` naming the field."""

    def __init__(self, query: Sequence[tuple[str, str]], body: bytes) -> None:
        self._query: dict[str, list[str]] = {}
        for key, value in query:
            self._query.setdefault(key, []).append(value)
        self._body: Mapping[str, Any] = {}
        if body.strip():
            try:
                document = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise InvalidInput(f"the request body is not valid JSON: {exc}") from None
            if not isinstance(document, dict):
                raise InvalidInput("the request body must be a JSON object")
            self._body = document

    @property
    def body(self) -> Mapping[str, Any]:
        """The JSON body (empty for GET)."""
        return self._body

    def raw(self, name: str) -> Any:
        """The field's value as sent (a body value wins over a query parameter), or None."""
        if name in self._body:
            return self._body[name]
        values = self._query.get(name)
        return None if not values else values[0]

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        """A string field."""
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise InvalidInput(f"Missing value for required parameter '{name}'")
            return default
        if not isinstance(value, str):
            raise InvalidInput(f"Invalid value {value!r} for parameter '{name}': expected a string")
        return value

    def need(self, name: str) -> str:
        """A required, non-empty string field."""
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(
        self, name: str, *, default: int | None = None, low: int = -_INT64, high: int = _INT64 - 1
    ) -> int | None:
        """An integer field (a JSON number or a decimal string, as protobuf JSON sends int64)."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise InvalidInput(f"Invalid value {value!r} for parameter '{name}': expected an integer")
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except (TypeError, ValueError):
            number = None
        if number is None:
            raise InvalidInput(f"Invalid value {value!r} for parameter '{name}': expected an integer")
        if not low <= number <= high:
            raise InvalidInput(f"Invalid value {number} for parameter '{name}': must be between {low} and {high}")
        return number

    def double(self, name: str, *, required: bool = False) -> float | None:
        """A double field (``"NaN"``, ``"Infinity"``, ``"-Infinity"`` as protobuf JSON sends them)."""
        value = self.raw(name)
        if value is None or value == "":
            if required:
                raise InvalidInput(f"Missing value for required parameter '{name}'")
            return None
        return to_float(value, name)

    def flag(self, name: str, *, default: bool = False) -> bool:
        """A boolean field (``true``/``false`` in JSON or a query string)."""
        value = self.raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InvalidInput(f"Invalid value {value!r} for parameter '{name}': expected true or false")

    def values(self, name: str) -> list[Any]:
        """A repeated field (a JSON array, or the query parameter given several times)."""
        if name in self._body:
            value = self._body[name]
            if value is None:
                return []
            if not isinstance(value, list):
                raise InvalidInput(f"Invalid value {value!r} for parameter '{name}': expected a list")
            return value
        return list(self._query.get(name, ()))

    def strings(self, name: str) -> list[str]:
        """A repeated string field."""
        values = self.values(name)
        for value in values:
            if not isinstance(value, str):
                raise InvalidInput(f"Invalid value {value!r} in parameter '{name}': expected strings")
        return values

    def objects(self, name: str) -> list[Mapping[str, Any]]:
        """A repeated message field (a list of JSON objects)."""
        values = self.values(name)
        for value in values:
            if not isinstance(value, dict):
                raise InvalidInput(f"Invalid value {value!r} in parameter '{name}': expected objects")
        return values

    def run_id(self) -> str:
        """``run_id``, or MLflow's older ``run_uuid``."""
        found = self.text("run_id") or self.text("run_uuid")
        if not found:
            raise InvalidInput("Missing value for required parameter 'run_id'")
        return found

    def key_values(self, name: str) -> dict[str, str]:
        """A repeated ``{key, value}`` field as a map (later keys win)."""
        result: dict[str, str] = {}
        for item in self.objects(name):
            key = item.get("key")
            if not isinstance(key, str) or not key:
                raise InvalidInput(f"Invalid item {item!r} in parameter '{name}': a non-empty 'key' is required")
            value = item.get("value", "")
            result[key] = value if isinstance(value, str) else orjson.dumps(value).decode()
        return result


def to_float(value: Any, name: str) -> float:
    """A protobuf JSON double.

    Raises:
        InvalidInput: not a number.
    """
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float(value)
    if isinstance(value, str):
        if value.lower() in _SPECIAL:
            return _SPECIAL[value.lower()]
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidInput(f"Invalid value {value!r} for parameter '{name}': expected a number")


__all__ = ["Params", "to_float"]
