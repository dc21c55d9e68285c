"""Rendering for the registry and tracking commands: rich tables for people, JSON for scripts."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

import click
import orjson


def echo_json(value: Any) -> None:
    """Print entities (or plain data) as indented JSON."""
    click.echo(orjson.dumps(_plain(value), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def echo_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a table (plain columns when stdout is not a terminal)."""
    from rich.console import Console  # lazy: rich only for commands that print tables
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 200))
    console.print(table)


def echo_fields(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    """Print ``name: value`` lines under a title."""
    click.secho(title, bold=True)
    width = max((len(name) for name, _ in fields), default=0)
    for name, value in fields:
        click.echo(f"  {name.ljust(width)}  {'' if value is None else value}")


def when(millis: int | None) -> str:
    """A millisecond timestamp as local ``YYYY-MM-DD HH:MM:SS``."""
    if millis is None:
        return ""
    return dt.datetime.fromtimestamp(millis / 1000).strftime("%Y-%m-%d %H:%M:%S")


def size(value: int | None) -> str:
    """Bytes, human-readable."""
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"  # pragma: no cover


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


__all__ = ["echo_fields", "echo_json", "echo_table", "size", "when"]
