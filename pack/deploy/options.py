"""``-C key=value`` configuration: typed option classes per target, with the valid keys in every error.

Each target declares a frozen dataclass whose fields are its keys (``metadata={"help": ...}``).
``parse_options`` checks the keys, converts strings from the command line to the field types and
leaves values given from Python as they are when they already have the right type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pack.errors import InvalidInput

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def option(default: Any, help: str) -> Any:
    """A dataclass field with a default and the help line ``target_help`` prints."""
    return dataclasses.field(default=default, metadata={"help": help})


def parse_options(cls: type[T], config: Mapping[str, Any] | None, target: str) -> T:
    """``config`` as an instance of the option dataclass ``cls``.

    Raises:
        InvalidInput: an unknown key (the message lists the valid ones) or a value of the wrong type.
    """
    config = dict(config or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise InvalidInput(
            f"unknown config key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for target "
            f"{target!r} (valid: {', '.join(sorted(fields))})"
        )
    hints = typing.get_type_hints(cls)
    values = {key: _convert(key, value, hints[key]) for key, value in config.items()}
    return cls(**values)


def options_help(cls: type[Any]) -> str:
    """One ``key (default): help`` line per option."""
    lines = []
    for f in dataclasses.fields(cls):
        default = "" if f.default in (None, "") else f" (default: {f.default})"
        lines.append(f"  {f.name}{default}: {f.metadata.get('help', '')}")
    return "\n".join(lines)


def _convert(key: str, value: Any, hint: Any) -> Any:
    optional = _is_optional(hint)
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise InvalidInput(f"config {key}: a value is required")
    kind = next(arg for arg in typing.get_args(hint) if arg is not type(None)) if optional else hint
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise InvalidInput(f"config {key}={value!r}: expected true or false")
    if kind in (int, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return kind(value)
        try:
            return kind(str(value).strip())
        except ValueError:
            raise InvalidInput(
                f"config {key}={value!r}: expected {'an integer' if kind is int else 'a number'}"
            ) from None
    if isinstance(value, (Mapping, list, tuple)):
        raise InvalidInput(f"config {key}: expected a string, got {type(value).__name__}")
    return str(value)


def _is_optional(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    return (origin is typing.Union or origin is types.UnionType) and type(None) in typing.get_args(hint)


def config_pairs(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["key=value", ...]`` (``-C`` flags) as a dictionary.

    Raises:
        InvalidInput: a pair without ``=`` or with an empty key.
    """
    config: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"config {pair!r} is not key=value")
        config[key.strip()] = value
    return config


__all__ = ["config_pairs", "option", "options_help", "parse_options"]
