"""``--trusted-types`` (``PACK_TRUSTED_TYPES``): the load option of the commands that load models.

Read by click like every other option, so ``pack serve`` starts without importing pydantic.
"""

from __future__ import annotations

from typing import Any

import click

trusted_types_option = click.option(
    "--trusted-types",
    "trusted_types",
    envvar="PACK_TRUSTED_TYPES",
    default="",
    show_envvar=True,
    metavar="TYPES",
    help="Comma-separated extra types skops may load (module.Class), beyond its safe defaults.",
)


def load_options(trusted_types: str) -> dict[str, Any]:
    """Flavor load options (``model_config``) from the command's flags."""
    names = [name.strip() for name in trusted_types.split(",") if name.strip()]
    return {"trusted_types": names} if names else {}


__all__ = ["load_options", "trusted_types_option"]
