"""``pack gc``: list (by default) or remove what killed registrations left in the registry."""

from __future__ import annotations

import re

import click

from pack.cli.store_options import json_option, open_services, store_options
from pack.cli.tables import echo_json, echo_table
from pack.errors import InvalidInput

_DURATION = re.compile(r"^(?P<amount>[0-9]+(?:\.[0-9]+)?)(?P<unit>[smhd]?)$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_WHAT = {
    "pending": "mark FAILED_REGISTRATION and remove its files",
    "failed": "remove the files of a failed registration",
    "temporary": "remove an orphaned temporary directory",
}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``1h``, ``2d`` in seconds.

    Raises:
        InvalidInput: not a duration.
    """
    match = _DURATION.match(text.strip())
    if match is None:
        raise InvalidInput(f"--older-than {text!r} is not a duration (e.g. 90s, 30m, 1h, 2d)")
    return float(match["amount"]) * _SECONDS[match["unit"]]


def _age(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


@click.command("gc")
@click.option(
    "--older-than",
    default="1h",
    show_default=True,
    help="Registrations pending longer than this are dead (set it above your longest upload).",
)
@click.option("--yes", is_flag=True, help="Act: without it, only list what would be done.")
@json_option
@store_options
def gc(older_than: str, yes: bool, as_json: bool, **store: str | None) -> None:
    """Clean up after killed registrations: versions left PENDING_REGISTRATION, their partial files and
    orphaned temporary directories. Lists what it would do unless --yes."""
    leftovers = open_services(**store).registry.collect_garbage(parse_duration(older_than), dry_run=not yes)
    if as_json:
        echo_json({"removed" if yes else "would_remove": leftovers})
        return
    if not leftovers:
        click.echo("nothing to clean up")
        return
    echo_table(
        "removed" if yes else "would remove",
        ["model", "version", "age", "action", "location"],
        [
            (item.name or "", item.version or "", _age(item.age_seconds), _WHAT[item.kind], item.location)
            for item in leftovers
        ],
    )
    if not yes:
        click.echo("dry run: nothing changed; run pack gc --yes to act")


COMMANDS = [gc]

__all__ = ["COMMANDS", "gc", "parse_duration"]
