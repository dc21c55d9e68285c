"""The ``pack`` command: one click group; ``PackError`` becomes a one-line message and an exit code."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import click

from pack._version import __version__
from pack.errors import AlreadyExists, FlavorError, InvalidInput, InvalidModel, NotFound, PackError

# Exit codes: 1 = something asked for does not exist or failed; 2 = the input was unusable.
EXIT_CODES: tuple[tuple[type[PackError], int], ...] = (
    (NotFound, 1),
    (InvalidInput, 2),
    (InvalidModel, 2),
    (FlavorError, 2),
    (AlreadyExists, 2),
    (PackError, 1),
)


def exit_code(error: PackError) -> int:
    """The exit code for an error (the first matching family above)."""
    return next(code for family, code in EXIT_CODES if isinstance(error, family))


def _one_line_warning(message: Any, category: type[Warning], *_: Any, **__: Any) -> None:
    click.echo(f"warning: {message}", err=True)


class PackGroup(click.Group):
    """A group that turns ``PackError`` into ``error: message`` on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        warnings.showwarning = _one_line_warning
        try:
            return super().invoke(ctx)
        except PackError as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            click.echo(f"error: {message}", err=True)
            ctx.exit(exit_code(error))
        except RecursionError:  # a crafted document deep enough to exhaust the stack: bad input, no traceback
            click.echo("error: the input is nested too deeply to read", err=True)
            ctx.exit(2)


@click.group(cls=PackGroup, context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "PACK"})
@click.version_option(__version__, "--version", prog_name="pack", message="%(prog)s %(version)s")
def cli() -> None:
    """pack: package, register, serve and ship ML models."""


# Each module lists its click commands in COMMANDS; command bodies import heavy modules lazily.
COMMAND_MODULES = (
    "pack.cli.models",
    "pack.cli.registry",
    "pack.cli.tracking",
    "pack.cli.convert",
    "pack.cli.serve",
    "pack.cli.server",
    "pack.cli.build",
    "pack.cli.gc",
    "pack.cli.run",
    "pack.cli.deployments",
)


# MLflow's ``mlflow models serve|predict|build-docker``: the same commands under ``pack models``.
MODELS_ALIASES = ("serve", "predict", "build-docker")


def _register() -> None:
    from importlib import import_module

    for name in COMMAND_MODULES:
        for command in import_module(name).COMMANDS:
            cli.add_command(command)
    models = cli.commands["models"]
    if isinstance(models, click.Group):
        for alias in MODELS_ALIASES:
            models.add_command(cli.commands[alias], alias)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every failure is one ``error:`` line and an exit code."""
    try:
        result = cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="pack", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.format_message())
        sys.exit(0)
    except click.ClickException as error:  # usage errors: bad options, missing files, ...
        click.echo(f"error: {error.format_message()}{_hint(error)}", err=True)
        sys.exit(error.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def _hint(error: click.ClickException) -> str:
    """Advice for a usage error that MLflow habits lead to."""
    if isinstance(error, click.BadOptionUsage) and error.option_name == "-h":
        return " (-h is --host here, as in MLflow; for help use --help)"
    return ""


__all__ = ["cli", "exit_code", "main"]
