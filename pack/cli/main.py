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
    """A group that turns ``PackError`` into ``error: message`` on stderr and an exit code, and
    imports a command's module only when the command is used (``COMMAND_MODULES``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load_command(cmd_name) if self is cli else super().get_command(ctx, cmd_name)

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


# Each module lists its click commands in COMMANDS; command bodies import heavy modules lazily. The
# group imports a command's module only when that command is asked for (``pack serve`` imports no
# other command); this table says where each command lives (a test checks it against the modules).
COMMAND_MODULES: dict[str, str] = {
    "log-model": "pack.cli.models",
    "predict": "pack.cli.models",
    "models": "pack.cli.registry",
    "runs": "pack.cli.tracking",
    "experiments": "pack.cli.tracking",
    "convert": "pack.cli.convert",
    "serve": "pack.cli.serve",
    "server": "pack.cli.server",
    "ui": "pack.cli.server",
    "build-docker": "pack.cli.build",
    "build-k8s": "pack.cli.build",
    "build-chart": "pack.cli.build",
    "build-sagemaker": "pack.cli.build",
    "gc": "pack.cli.gc",
    "run": "pack.cli.run",
    "deployments": "pack.cli.deployments",
}


# MLflow's ``mlflow models serve|predict|build-docker``: the same commands under ``pack models``.
MODELS_ALIASES = ("serve", "predict", "build-docker")


def _load_command(name: str) -> click.Command | None:
    """The command ``name``, its module imported and every command of that module added to ``cli``."""
    from importlib import import_module

    module = COMMAND_MODULES.get(name)
    if module is not None and name not in cli.commands:
        for command in import_module(module).COMMANDS:
            cli.add_command(command)
        if name == "models":
            models = cli.commands["models"]
            if isinstance(models, click.Group):
                for alias in MODELS_ALIASES:
                    aliased = _load_command(alias)
                    if aliased is not None:
                        models.add_command(aliased, alias)
    return cli.commands.get(name)


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
