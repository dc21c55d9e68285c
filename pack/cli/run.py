"""``pack run``: execute an MLproject's entry point and record it as a run (MLflow's ``mlflow run``)."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Any

import click

from pack.cli.store_options import build_settings, store_options
from pack.errors import InvalidInput, ProjectError

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")  # pack.projects.ENV_MANAGERS, without importing it


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run is stopped and recorded as KILLED."""


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        click.echo(f"pack run: {prefix}{record.getMessage()}", err=True)


def _docker_args(items: tuple[str, ...]) -> dict[str, str | bool]:
    args: dict[str, str | bool] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not name:
            raise InvalidInput(f"--docker-args {item!r} must be NAME or NAME=VALUE")
        args[name] = value if sep else True
    return args


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@click.command("run")
@click.argument("uri", default=".")
@click.option("-e", "--entry-point", default="main", show_default=True, help="Entry point, or a .py/.sh file.")
@click.option("-v", "--version", "version", default=None, help="Git commit, branch or tag to run.")
@click.option("-P", "--param-list", "params", multiple=True, metavar="KEY=VALUE", help="A parameter (repeat).")
@click.option("-A", "--docker-args", multiple=True, metavar="NAME[=VALUE]", help="A docker run option (repeat).")
@click.option("--experiment-name", default=None, help="Record into this experiment (created if missing).")
@click.option("--experiment-id", default=None, help="Record into the experiment with this id.")
@click.option("--run-name", default=None, help="Name of the run.")
@click.option("--run-id", default=None, help="Record into this existing run instead of a new one.")
@click.option(
    "--env-manager", type=click.Choice(ENV_MANAGERS), default=None, help="Default: what the project declares."
)
@click.option("--build-image", is_flag=True, help="docker_env: bake the project into a new image first.")
@click.option("-b", "--backend", default="local", show_default=True, help="Only 'local' (docker_env runs in Docker).")
@click.option("--storage-dir", default=None, help="Where remote 'path' parameters are downloaded.")
@store_options
def run_project(
    *,
    uri: str,
    entry_point: str,
    version: str | None,
    params: tuple[str, ...],
    docker_args: tuple[str, ...],
    experiment_name: str | None,
    experiment_id: str | None,
    run_name: str | None,
    run_id: str | None,
    env_manager: str | None,
    build_image: bool,
    backend: str,
    storage_dir: str | None,
    **store: str | None,
) -> None:
    """Run the project at URI (a directory, a git repository or a git URL, with #subdirectory).

    Parameters are checked before anything runs; the command's output is shown and stored as the
    run's run.log. Exit code 0 when the run FINISHED, 1 when it FAILED, 130/143 when stopped.
    """
    from pack.projects import run
    from pack.projects.params import parse_assignments
    from pack.tracking import Client

    parameters = parse_assignments(params)
    client = Client(settings=build_settings(store["backend_store_uri"], store["default_artifact_root"]))
    handler = _EchoHandler(logging.INFO)
    log = logging.getLogger("pack.projects")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    submitted: Any = None
    try:
        submitted = run(
            uri,
            entry_point,
            version,
            parameters,
            _docker_args(docker_args),
            experiment_name,
            experiment_id,
            backend,
            storage_dir=storage_dir,
            synchronous=False,
            run_id=run_id,
            run_name=run_name,
            env_manager=env_manager,
            build_image=build_image,
            client=client,
            stdout=sys.stdout,
            stderr=sys.stderr,
        )
        finished = submitted.wait()
    except KeyboardInterrupt as stop:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the stopping
        if submitted is not None:
            submitted.cancel()
            click.echo(f"pack run: run {submitted.run_id} KILLED", err=True)
        sys.exit(143 if isinstance(stop, _Terminated) else 130)
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.removeHandler(handler)
    if not finished:
        raise ProjectError(f"run {submitted.run_id} FAILED: the command exited with code {submitted.exit_code}")
    click.echo(f"pack run: run {submitted.run_id} FINISHED", err=True)


COMMANDS = [run_project]

__all__ = ["COMMANDS", "run_project"]
