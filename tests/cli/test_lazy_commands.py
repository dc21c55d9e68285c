"""The CLI imports a command's module only when that command runs, and its table of commands is whole."""

from __future__ import annotations

import importlib
import subprocess
import sys

from click.testing import CliRunner

from pack.cli.main import COMMAND_MODULES, cli


def test_the_table_names_every_command_of_every_module() -> None:
    modules = set(COMMAND_MODULES.values())
    defined = {command.name: module for module in modules for command in importlib.import_module(module).COMMANDS}
    assert defined == COMMAND_MODULES


def test_serve_imports_no_other_command() -> None:
    code = (
        "import sys\n"
        "from pack.cli.main import cli\n"
        "import click\n"
        "assert cli.get_command(click.Context(cli), 'serve') is not None\n"
        "print(' '.join(m for m in sys.modules if m.startswith('pack.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    commands = set(out.split()) - {"pack.cli.main", "pack.cli.serve", "pack.cli.load_options", "pack.cli.mlflow_compat"}
    assert commands == set(), sorted(commands)


def test_help_lists_every_command_and_models_has_mlflow_aliases() -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"]).output
    for name in COMMAND_MODULES:
        assert f"\n  {name} " in listed, name
    models = runner.invoke(cli, ["models", "--help"]).output
    for alias in ("serve", "predict", "build-docker"):
        assert f"\n  {alias} " in models, alias
